#pragma once
// HttpServer: HTTP/1.1 (Boost.Beast) over TCP, TLS or a local socket, in front of a
// RequestHandler. It owns the wire concerns: keep-alive, size limits, idle timeouts, malformed
// requests, and who the peer is (its uid on the local socket, its verified certificate over TLS).
// One strand per connection, so handlers may answer from any thread.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "common/endpoint.hpp"
#include "common/result.hpp"
#include "common/tls.hpp"
#include "controller/api/api_types.hpp"
#include "controller/api/websocket.hpp"

namespace sy::api {

struct HttpServerOptions {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::seconds idle_timeout{60};
  tls::Context tls;  // set: listen() serves TLS only
  // A WebSocket peer that does not read what it is sent would have the controller keep it all:
  // past this many bytes queued for one connection, the connection is dropped (an agent
  // registers again and is told its orders afresh; a dashboard reconnects to a whole view).
  std::size_t max_websocket_queued_bytes = 64 << 20;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, RequestHandler& handler, HttpServerOptions options);
  ~HttpServer();

  // Upgrades requests for `path` to WebSocket connections served by `handler`. Call before
  // listen(). Over TLS, an endpoint for nodes refuses peers without a certificate of the cluster
  // CA before they can say anything; one for browsers leaves proof to its handler (a token).
  enum class WebSocketPeers { nodes, browsers };
  void add_websocket(const std::string& path, WebSocketHandler& handler,
                     WebSocketPeers peers = WebSocketPeers::nodes);
  // Binds and starts accepting. Returns the bound endpoint (its port is real even if 0 was asked).
  Result<Endpoint, std::string> listen(const Endpoint& where);
  // Also serves the API (not the WebSocket endpoints) on a local socket at `path`, open to every
  // user: requests on it carry the peer's uid.
  Result<std::string, std::string> listen_local(const std::string& path);
  // Stops accepting new connections; connections in progress finish their current request.
  void stop_accepting();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sy::api
