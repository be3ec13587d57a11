#include "common/http_client.hpp"

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace sy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using LocalStream = beast::basic_stream<asio::local::stream_protocol>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {
// A connection to a port on this host with no listener can be its own other end (TCP
// simultaneous open); it would hold the port its server needs. Such a connection is a refusal.
bool connected_to_itself(const tcp::socket& socket) {
  beast::error_code e1, e2;
  const auto local_end = socket.local_endpoint(e1);
  const auto remote_end = socket.remote_endpoint(e2);
  return !e1 && !e2 && local_end == remote_end;
}
}  // namespace

struct HttpClient::Impl {
  asio::io_context ioc;
  tls::Context tls;
  // One of them holds the open connection; a TLS stream cannot be reused once shut down, so each
  // connection gets a fresh one.
  std::optional<beast::tcp_stream> plain;
  std::optional<TlsStream> secure;
  std::optional<LocalStream> local;
  beast::flat_buffer buffer;
  bool connected = false;
  std::chrono::milliseconds timeout;

  template <class F>
  auto with_stream(F&& f) {
    if (secure) return f(*secure);
    if (local) return f(*local);
    return f(*plain);
  }

  // Runs one asynchronous step to completion; the stream's deadline bounds it.
  template <class Start>
  beast::error_code run(Start&& start) {
    beast::error_code result;
    with_stream([&](auto& s) { beast::get_lowest_layer(s).expires_after(timeout); });
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  beast::error_code connect(const ServerAddress& address) {
    buffer.clear();
    if (address.kind == ServerAddress::Kind::local) {
      local.emplace(ioc);
      const asio::local::stream_protocol::endpoint ep(address.socket_path);
      return run([&](auto handler) { local->async_connect(ep, handler); });
    }
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto results =
        resolver.resolve(address.endpoint.host, std::to_string(address.endpoint.port), ec);
    if (ec) return ec;
    if (address.kind == ServerAddress::Kind::tcp) {
      plain.emplace(ioc);
      ec = run([&](auto handler) { plain->async_connect(results, handler); });
      if (!ec && connected_to_itself(plain->socket())) ec = asio::error::connection_refused;
      return ec;
    }
    secure.emplace(ioc, *tls);
    tls::expect_server(*secure, address.endpoint.host);
    ec = run(
        [&](auto handler) { beast::get_lowest_layer(*secure).async_connect(results, handler); });
    if (ec) return ec;
    if (connected_to_itself(beast::get_lowest_layer(*secure).socket())) {
      return asio::error::connection_refused;
    }
    return run(
        [&](auto handler) { secure->async_handshake(asio::ssl::stream_base::client, handler); });
  }

  void close() {
    with_stream([](auto& s) {
      beast::error_code ignored;
      beast::get_lowest_layer(s).socket().shutdown(asio::socket_base::shutdown_both, ignored);
      beast::get_lowest_layer(s).close();
    });
    plain.reset();
    secure.reset();
    local.reset();
    buffer.clear();
    connected = false;
  }
};

namespace {
std::string describe(const beast::error_code& ec, std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout) {
    return "timed out after " + std::to_string(timeout.count()) + " ms";
  }
  return ec.message();
}
}  // namespace

HttpClient::HttpClient(Endpoint endpoint, std::chrono::milliseconds timeout)
    : HttpClient(ServerAddress{ServerAddress::Kind::tcp, std::move(endpoint), ""}, timeout) {}

HttpClient::HttpClient(ServerAddress address, std::chrono::milliseconds timeout, tls::Context tls)
    : address_(std::move(address)), impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  impl_->tls = std::move(tls);
}

HttpClient::~HttpClient() {
  if (impl_->connected) impl_->close();
}

Result<HttpResponse, std::string> HttpClient::request(std::string_view method,
                                                      std::string_view target,
                                                      std::string_view body,
                                                      const HttpHeaders& headers) {
  Impl& c = *impl_;
  const std::string where = address_.to_string();
  if (address_.kind == ServerAddress::Kind::tls && !c.tls) {
    return fail(where + ": TLS needs the cluster CA's certificate (tls_ca)");
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host,
          address_.kind == ServerAddress::Kind::local ? "localhost" : address_.endpoint.host);
  req.set(http::field::user_agent, "switchyard/" SY_VERSION);
  for (const auto& [name, value] : headers)
    req.set(name, value);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
  }
  req.prepare_payload();

  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = c.connected;
    if (!c.connected) {
      if (auto ec = c.connect(address_); ec) {
        c.close();
        return fail("cannot connect to " + where + ": " + describe(ec, c.timeout));
      }
      c.connected = true;
    }
    auto ec = c.with_stream(
        [&](auto& s) { return c.run([&](auto handler) { http::async_write(s, req, handler); }); });
    http::response<http::string_body> res;
    if (!ec) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(64ull << 20);
      ec = c.with_stream([&](auto& s) {
        return c.run([&](auto handler) { http::async_read(s, c.buffer, parser, handler); });
      });
      if (!ec) res = parser.release();
    }
    if (ec) {
      c.close();
      const bool stale =
          reused && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                     ec == asio::error::broken_pipe || ec == asio::error::eof ||
                     ec == asio::ssl::error::stream_truncated);
      if (stale && attempt == 0) continue;
      return fail(where + ": " + describe(ec, c.timeout));
    }
    if (!res.keep_alive()) c.close();
    return HttpResponse{static_cast<int>(res.result_int()), std::move(res.body())};
  }
  return fail(where + ": connection closed");
}

}  // namespace sy
