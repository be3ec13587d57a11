#pragma once
// Persistent connections for node agents: a WebSocket endpoint served by HttpServer next to the
// REST API. Handlers see text messages and a connection they can send on from any thread.

#include <memory>
#include <string>

#include "controller/api/api_types.hpp"

namespace sy::api {

class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  virtual void send(std::string text) = 0;  // queued; safe from any thread
  virtual void close() = 0;                 // after queued messages are sent
  virtual const Peer& peer() const = 0;
  std::string remote() const { return peer().address; }  // "ip:port" of the peer
};

class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  // Each called on the connection's strand, in order; on_closed exactly once.
  virtual void on_message(const std::shared_ptr<WebSocketConnection>& c, std::string text) = 0;
  virtual void on_closed(const std::shared_ptr<WebSocketConnection>& c) = 0;
};

}  // namespace sy::api
