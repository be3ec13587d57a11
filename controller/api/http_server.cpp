#include "controller/api/http_server.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <map>

#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "common/log.hpp"

namespace sy::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using LocalStream = beast::basic_stream<local>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

struct WsEndpoint {
  WebSocketHandler* handler = nullptr;
  HttpServer::WebSocketPeers peers = HttpServer::WebSocketPeers::nodes;
};

ApiRequest to_api_request(http::request<http::string_body>&& req, const Peer& peer) {
  ApiRequest out;
  out.peer = peer;
  out.method = std::string(req.method_string());
  set_target(out, req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(req.body());
  return out;
}

template <class Stream>
class WsSession : public WebSocketConnection,
                  public std::enable_shared_from_this<WsSession<Stream>> {
  using std::enable_shared_from_this<WsSession<Stream>>::shared_from_this;

 public:
  WsSession(Stream&& stream, WebSocketHandler& handler, Peer peer, std::size_t max_queued)
      : ws_(std::move(stream)),
        handler_(handler),
        peer_(std::move(peer)),
        max_queued_(max_queued) {}

  void start(http::request<http::string_body> req) {
    // Pings the peer when idle and drops it when it stops answering: a silent partition
    // becomes a closed connection.
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(1 << 20);
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->closed();
      self->read();
    });
  }

  void send(std::string text) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), t = std::move(text)]() mutable {
      if (self->close_started_) return;  // Beast allows no write once the close is under way
      // One message larger than the bound still goes alone; more is a peer not reading.
      if (!self->outbox_.empty() && self->queued_ + t.size() > self->max_queued_) {
        return self->drop_slow_peer(t.size());
      }
      self->queued_ += t.size();
      self->outbox_.push_back(std::move(t));
      if (self->outbox_.size() == 1) self->write_next();
    });
  }

  void close() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (self->outbox_.empty()) self->do_close();
    });
  }

  const Peer& peer() const override { return peer_; }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->closed();
      std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->handler_.on_message(self, std::move(text));
      self->read();
    });
  }

  void write_next() {
    ws_.text(true);
    ws_.async_write(asio::buffer(outbox_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return self->closed();
                      self->queued_ -= self->outbox_.front().size();
                      self->outbox_.pop_front();
                      if (!self->outbox_.empty()) return self->write_next();
                      if (self->closing_) self->do_close();
                    });
  }

  // Once only: a connection refused twice (two messages in flight) must not close twice.
  void do_close() {
    if (close_started_) return;
    close_started_ = true;
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](beast::error_code) { self->closed(); });
  }

  // The queue stays as it is (a write may be using its first message): the socket is closed
  // under it, which ends the read and the write with errors, and then the connection.
  void drop_slow_peer(std::size_t more) {
    SY_LOG(warn, "http") << peer_.address << ": WebSocket peer is not reading (" << queued_ + more
                         << " bytes would be queued, at most " << max_queued_
                         << "): connection dropped";
    close_started_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  void closed() {
    if (closed_) return;
    closed_ = true;
    handler_.on_closed(shared_from_this());
  }

  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  WebSocketHandler& handler_;
  std::deque<std::string> outbox_;
  std::size_t queued_ = 0;  // bytes in outbox_
  Peer peer_;
  std::size_t max_queued_;
  bool closing_ = false;
  bool close_started_ = false;
  bool closed_ = false;
};

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

 public:
  Session(Stream&& stream, RequestHandler& handler, const HttpServerOptions& options,
          const std::map<std::string, WsEndpoint>& websockets, Peer peer)
      : stream_(std::move(stream)),
        handler_(handler),
        options_(options),
        websockets_(websockets),
        peer_(std::move(peer)) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    beast::get_lowest_layer(stream_).expires_after(options_.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::eof ||
        ec == asio::ssl::error::stream_truncated) {
      return close();
    }
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      return write(error_response(
          413, "too_large",
          "request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes"));
    }
    if (ec == http::error::header_limit) {
      keep_alive_ = false;
      return write(error_response(431, "headers_too_large", "request headers are too large"));
    }
    if (ec) {
      keep_alive_ = false;
      return write(error_response(400, "bad_request", "malformed HTTP request: " + ec.message()));
    }
    auto req = parser_->release();
    if (websocket::is_upgrade(req)) {
      const std::string path(req.target().substr(0, req.target().find('?')));
      auto it = websockets_.find(path);
      if (it == websockets_.end()) {
        keep_alive_ = false;
        return write(error_response(404, "no_such_endpoint", "no WebSocket endpoint " + path));
      }
      if constexpr (std::is_same_v<Stream, LocalStream>) {
        keep_alive_ = false;
        return write(error_response(404, "no_such_endpoint", "agents connect over TCP"));
      } else {
        // Over TLS an agent proves its node with a certificate of the cluster CA; without one
        // it is refused before it can say anything.
        if (it->second.peers == HttpServer::WebSocketPeers::nodes &&
            peer_.transport == Peer::Transport::tls && peer_.certificate_name.empty()) {
          keep_alive_ = false;
          SY_LOG(warn, "agents") << peer_.address << ": refused: no certificate of the cluster CA";
          return write(error_response(403, "no_certificate",
                                      "agents must present a certificate of the cluster CA"));
        }
        beast::get_lowest_layer(stream_).expires_never();  // WebSocket keeps its own timeouts
        std::make_shared<WsSession<Stream>>(std::move(stream_), *it->second.handler, peer_,
                                            options_.max_websocket_queued_bytes)
            ->start(std::move(req));
        return;
      }
    }
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    // Hold the connection while the handler works; answers may come from another thread.
    handler_.handle(
        to_api_request(std::move(req), peer_), [self = shared_from_this()](ApiResponse response) {
          asio::post(self->stream_.get_executor(),
                     [self, r = std::move(response)]() mutable { self->write(std::move(r)); });
        });
  }

  void write(ApiResponse response) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), version_);
    res->set(http::field::server, "switchyard/" SY_VERSION);
    res->keep_alive(keep_alive_);
    for (const auto& [name, value] : response.headers)
      res->set(name, value);
    if (!response.content_type.empty()) {
      res->set(http::field::content_type, response.content_type);
      res->body() = std::move(response.text);
    } else {
      res->set(http::field::content_type, "application/json");
      res->body() = response.body.dump();
      res->body() += '\n';
    }
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !self->keep_alive_) return self->close();
                        self->read();
                      });
  }

  // Lingering close: stop sending, then read and discard what the client is still sending
  // (briefly), so that a client still writing a refused body reads our answer instead of a reset.
  void close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::socket_base::shutdown_send, ignored);
    drain();
  }

  void drain() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (!ec && self->drained_ < kMaxDrainBytes) self->drain();
                            });
  }

  static constexpr std::size_t kMaxDrainBytes = 64 << 20;
  std::array<char, 16384> drain_buffer_{};
  std::size_t drained_ = 0;

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  RequestHandler& handler_;
  const HttpServerOptions options_;
  const std::map<std::string, WsEndpoint> websockets_;  // a copy: a handful of entries
  Peer peer_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

std::string address_of(const tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  const std::string host = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port());
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, RequestHandler& h, HttpServerOptions o)
      : ioc(io),
        handler(h),
        options(std::move(o)),
        acceptor(asio::make_strand(io)),
        local_acceptor(asio::make_strand(io)) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc),
                          [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                            if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) {
                              return;
                            }
                            if (!ec) {
                              self->serve(std::move(socket));
                            } else {
                              SY_LOG(warn, "http") << "accept failed: " << ec.message();
                            }
                            self->accept();
                          });
  }

  void serve(tcp::socket&& socket) {
    Peer peer{options.tls ? Peer::Transport::tls : Peer::Transport::tcp, address_of(socket),
              std::nullopt, ""};
    if (!options.tls) {
      std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), handler,
                                                   options, websockets, std::move(peer))
          ->start();
      return;
    }
    auto stream = std::make_shared<TlsStream>(std::move(socket), *options.tls);
    beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(10));
    stream->async_handshake(
        asio::ssl::stream_base::server,
        [self = shared_from_this(), stream, peer = std::move(peer)](beast::error_code ec) mutable {
          if (ec) {
            // A peer with no certificate of the cluster CA, or not speaking TLS at all.
            SY_LOG(warn, "http") << peer.address << ": TLS handshake refused: " << ec.message();
            return;
          }
          peer.certificate_name = tls::verified_peer_name(stream->native_handle());
          std::make_shared<Session<TlsStream>>(std::move(*stream), self->handler, self->options,
                                               self->websockets, std::move(peer))
              ->start();
        });
  }

  void accept_local() {
    local_acceptor.async_accept(asio::make_strand(ioc), [self = shared_from_this()](
                                                            beast::error_code ec, local::socket s) {
      if (ec == asio::error::operation_aborted || !self->local_acceptor.is_open()) return;
      if (!ec) {
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
          Peer peer{Peer::Transport::local, "local", static_cast<unsigned>(cred.uid), ""};
          std::make_shared<Session<LocalStream>>(LocalStream(std::move(s)), self->handler,
                                                 self->options, self->websockets, std::move(peer))
              ->start();
        }
      } else {
        SY_LOG(warn, "http") << "local accept failed: " << ec.message();
      }
      self->accept_local();
    });
  }

  asio::io_context& ioc;
  RequestHandler& handler;
  HttpServerOptions options;
  tcp::acceptor acceptor;
  local::acceptor local_acceptor;
  std::string local_path;
  std::map<std::string, WsEndpoint> websockets;
};

HttpServer::HttpServer(asio::io_context& ioc, RequestHandler& handler, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(ioc, handler, std::move(options))) {}

HttpServer::~HttpServer() {
  stop_accepting();
}

void HttpServer::add_websocket(const std::string& path, WebSocketHandler& handler,
                               WebSocketPeers peers) {
  impl_->websockets[path] = {&handler, peers};
}

Result<Endpoint, std::string> HttpServer::listen(const Endpoint& where) {
  beast::error_code ec;
  auto address = asio::ip::make_address(where.host, ec);
  if (ec) return fail("cannot listen on '" + where.host + "': not an IP address");
  const tcp::endpoint ep(address, where.port);
  auto& a = impl_->acceptor;
  if (a.open(ep.protocol(), ec); ec) return fail("cannot open socket: " + ec.message());
  a.set_option(asio::socket_base::reuse_address(true), ec);
  if (a.bind(ep, ec); ec)
    return fail("cannot listen on " + where.to_string() + ": " + ec.message());
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return fail("cannot listen on " + where.to_string() + ": " + ec.message());
  }
  impl_->accept();
  const auto bound = a.local_endpoint();
  return Endpoint{bound.address().to_string(), bound.port()};
}

Result<std::string, std::string> HttpServer::listen_local(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code fec;
  fs::create_directories(fs::path(path).parent_path(), fec);
  // A socket left by a controller that crashed; the state directory's lock says none runs now.
  if (fs::is_socket(path, fec)) fs::remove(path, fec);
  beast::error_code ec;
  auto& a = impl_->local_acceptor;
  const local::endpoint ep(path);
  if (a.open(ep.protocol(), ec); ec) return fail("cannot open local socket: " + ec.message());
  if (a.bind(ep, ec); ec) return fail("cannot listen on " + path + ": " + ec.message());
  // Every user may connect: the kernel tells who they are.
  ::chmod(path.c_str(), 0666);
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return fail("cannot listen on " + path + ": " + ec.message());
  }
  impl_->local_path = path;
  impl_->accept_local();
  return path;
}

void HttpServer::stop_accepting() {
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  asio::post(impl_->local_acceptor.get_executor(), [impl = impl_] {
    beast::error_code ignored;
    if (impl->local_acceptor.is_open()) {
      impl->local_acceptor.close(ignored);
      std::error_code fec;
      std::filesystem::remove(impl->local_path, fec);
    }
  });
}

}  // namespace sy::api
