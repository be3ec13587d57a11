#include "agent/controller_link.hpp"

#include <algorithm>
#include <deque>
#include <random>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include "common/agent_protocol.hpp"
#include "common/log.hpp"

namespace sy::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using PlainSocket = websocket::stream<beast::tcp_stream>;
using TlsSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

struct ControllerLink::Impl : std::enable_shared_from_this<ControllerLink::Impl> {
  Impl(asio::io_context& io, Endpoint ep, tls::Context t_ctx, std::string n, topo::NodeTopology t,
       ControllerLink::StateFn c)
      : ioc(io),
        controller(std::move(ep)),
        tls_context(std::move(t_ctx)),
        node(std::move(n)),
        topology(std::move(t)),
        state(std::move(c)),
        resolver(io),
        heartbeat_timer(io),
        retry_timer(io) {}

  void connect() {
    if (stopping) return;
    const std::uint64_t gen = ++generation;
    plain.reset();
    secure.reset();
    if (tls_context) {
      secure = std::make_unique<TlsSocket>(ioc, *tls_context);
      tls::expect_server(secure->next_layer(), controller.host);
    } else {
      plain = std::make_unique<PlainSocket>(ioc);
    }
    auto self = shared_from_this();
    resolver.async_resolve(controller.host, std::to_string(controller.port),
                           [self, gen](beast::error_code ec, tcp::resolver::results_type results) {
                             if (ec) return self->failed(gen, "resolve: " + ec.message());
                             self->with_ws([&](auto& ws) {
                               beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(5));
                               beast::get_lowest_layer(ws).async_connect(
                                   results,
                                   [self, gen](beast::error_code ec2, const tcp::endpoint&) {
                                     if (ec2) return self->failed(gen, "connect: " + ec2.message());
                                     if (self->connected_to_itself()) {
                                       return self->failed(gen, "connect: reached itself");
                                     }
                                     self->tls_handshake(gen);
                                   });
                             });
                           });
  }

  // With the controller down, a connection to its port on this host can be its own other end
  // (TCP simultaneous open from a source port equal to the port): it would hold the port the
  // controller needs to come back on.
  bool connected_to_itself() {
    bool self_connected = false;
    with_ws([&](auto& ws) {
      beast::error_code e1, e2;
      const auto& socket = beast::get_lowest_layer(ws).socket();
      const auto local_end = socket.local_endpoint(e1);
      const auto remote_end = socket.remote_endpoint(e2);
      self_connected = !e1 && !e2 && local_end == remote_end;
    });
    return self_connected;
  }

  template <class F>
  void with_ws(F&& f) {
    if (secure) return f(*secure);
    if (plain) return f(*plain);
  }

  // The controller's certificate must come from the cluster CA and name the host we dialled;
  // ours tells it which node we are.
  void tls_handshake(std::uint64_t gen) {
    if (!secure) return handshake(gen);
    auto self = shared_from_this();
    secure->next_layer().async_handshake(asio::ssl::stream_base::client,
                                         [self, gen](beast::error_code ec) {
                                           if (ec) return self->failed(gen, "TLS: " + ec.message());
                                           self->handshake(gen);
                                         });
  }

  void handshake(std::uint64_t gen) {
    with_ws([&](auto& ws) { handshake_on(ws, gen); });
  }

  template <class Ws>
  void handshake_on(Ws& ws, std::uint64_t gen) {
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    auto self = shared_from_this();
    ws.async_handshake(
        controller.to_string(), protocol::kAgentPath, [self, gen](beast::error_code ec) {
          if (ec) return self->failed(gen, "handshake: " + ec.message());
          const auto now = self->state ? self->state() : ControllerLink::State{};
          self->write(gen, protocol::register_message(self->node, self->instance, self->topology,
                                                      now.datasets, now.jobs)
                               .dump());
          self->read(gen);
        });
  }

  void read(std::uint64_t gen) {
    auto self = shared_from_this();
    with_ws([&](auto& ws) {
      ws.async_read(buffer, [self, gen](beast::error_code ec, std::size_t) {
        if (gen != self->generation) return;
        if (ec) return self->failed(gen, "connection lost: " + ec.message());
        auto message =
            nlohmann::json::parse(beast::buffers_to_string(self->buffer.data()), nullptr, false);
        self->buffer.consume(self->buffer.size());
        self->on_message(gen, message);
        self->read(gen);
      });
    });
  }

  void on_message(std::uint64_t gen, const nlohmann::json& m) {
    auto type = protocol::message_type(m);
    if (!type) return failed(gen, "controller sent " + type.error());
    if (type.value() == "registered") {
      interval_ms =
          std::max<std::int64_t>(50, m.value("heartbeat_interval_ms", std::int64_t{5000}));
      backoff_ms = kMinBackoffMs;
      SY_LOG(info, "agent") << "registered " << node << " with " << controller.to_string()
                            << " (heartbeat every " << interval_ms << " ms)";
      schedule_heartbeat(gen);
      // Only now: a message sent before the registration is committed would have no node.
      connected = true;
      if (on_registered) on_registered();
    } else if (type.value() == "error") {
      failed(gen, "controller refused: " + m.value("message", std::string("?")));
    } else if (on_order) {
      on_order(type.value(), m);
    }
  }

  void schedule_heartbeat(std::uint64_t gen) {
    heartbeat_timer.expires_after(std::chrono::milliseconds(interval_ms));
    auto self = shared_from_this();
    heartbeat_timer.async_wait([self, gen](beast::error_code ec) {
      if (ec || gen != self->generation) return;
      self->write(gen, protocol::heartbeat_message(++self->seq).dump());
      self->schedule_heartbeat(gen);
    });
  }

  // Beast allows one write in flight: messages wait in the outbox and go one after another.
  void write(std::uint64_t gen, std::string text) {
    if (gen != generation) return;
    outbox.push_back(std::move(text));
    if (!writing) write_next(gen);
  }

  void write_next(std::uint64_t gen) {
    if (outbox.empty()) {
      writing = false;
      return;
    }
    writing = true;
    auto payload = std::make_shared<std::string>(std::move(outbox.front()));
    outbox.pop_front();
    auto self = shared_from_this();
    with_ws([&](auto& ws) {
      ws.text(true);
      ws.async_write(asio::buffer(*payload),
                     [self, gen, payload](beast::error_code ec, std::size_t) {
                       if (gen != self->generation) return;
                       if (ec) return self->failed(gen, "send: " + ec.message());
                       self->write_next(gen);
                     });
    });
  }

  void failed(std::uint64_t gen, const std::string& why) {
    if (gen != generation || stopping) return;
    ++generation;  // callbacks of this connection are stale from now on
    connected = false;
    writing = false;
    outbox.clear();
    heartbeat_timer.cancel();
    beast::error_code ignored;
    with_ws([&](auto& ws) { beast::get_lowest_layer(ws).socket().close(ignored); });
    // Full jitter: after a controller restart every agent of the fleet fails at the same moment;
    // spread over the whole back-off, their registrations do not all arrive in one burst.
    const std::int64_t delay_ms = std::uniform_int_distribution<std::int64_t>(
        kMinBackoffMs, std::max(kMinBackoffMs, backoff_ms))(random);
    SY_LOG(warn, "agent") << "controller " << controller.to_string() << ": " << why
                          << "; retrying in " << delay_ms << " ms";
    retry_timer.expires_after(std::chrono::milliseconds(delay_ms));
    backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
    auto self = shared_from_this();
    retry_timer.async_wait([self](beast::error_code ec) {
      if (!ec) self->connect();
    });
  }

  void stop() {
    stopping = true;
    ++generation;
    heartbeat_timer.cancel();
    retry_timer.cancel();
    resolver.cancel();
    beast::error_code ignored;
    with_ws([&](auto& ws) { beast::get_lowest_layer(ws).socket().close(ignored); });
  }

  static constexpr std::int64_t kMinBackoffMs = 100;
  static constexpr std::int64_t kMaxBackoffMs = 2000;

  asio::io_context& ioc;
  Endpoint controller;
  tls::Context tls_context;  // null: plain TCP
  std::string node;
  // This process's, in every registration: the controller re-sends an order that a connection
  // lost on its way only to the agent that still remembers the orders it was given.
  const std::string instance = protocol::new_agent_instance();
  topo::NodeTopology topology;
  ControllerLink::StateFn state;
  tcp::resolver resolver;
  asio::steady_timer heartbeat_timer;
  asio::steady_timer retry_timer;
  std::unique_ptr<PlainSocket> plain;  // one of the two holds the connection
  std::unique_ptr<TlsSocket> secure;
  beast::flat_buffer buffer;
  std::uint64_t generation = 0;
  std::int64_t interval_ms = 5000;
  std::int64_t backoff_ms = kMinBackoffMs;
  std::mt19937_64 random{std::random_device{}()};
  std::int64_t seq = 0;
  bool stopping = false;
  bool connected = false;
  bool writing = false;
  std::deque<std::string> outbox;
  ControllerLink::OrderHandler on_order;
  std::function<void()> on_registered;
};

ControllerLink::ControllerLink(asio::io_context& ioc, Endpoint controller, tls::Context tls,
                               std::string node, topo::NodeTopology topology, StateFn state)
    : impl_(std::make_shared<Impl>(ioc, std::move(controller), std::move(tls), std::move(node),
                                   std::move(topology), std::move(state))) {}

ControllerLink::~ControllerLink() {
  impl_->stop();
}
void ControllerLink::start() {
  impl_->connect();
}
void ControllerLink::stop() {
  impl_->stop();
}

void ControllerLink::set_on_order(OrderHandler handler) {
  impl_->on_order = std::move(handler);
}

void ControllerLink::set_on_registered(std::function<void()> f) {
  impl_->on_registered = std::move(f);
}

void ControllerLink::send(nlohmann::json message) {
  asio::post(impl_->ioc, [impl = impl_, text = message.dump()]() mutable {
    if (impl->connected && !impl->stopping) impl->write(impl->generation, std::move(text));
  });
}

}  // namespace sy::agent
