#include "common/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
  std::chrono::milliseconds timeout;

  // Runs one asynchronous step to completion; tcp_stream's deadline bounds it.
  template <class Start>
  beast::error_code run(Start&& start) {
    beast::error_code result;
    stream.expires_after(timeout);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
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
    : endpoint_(std::move(endpoint)), impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
}

HttpClient::~HttpClient() {
  if (impl_->connected) impl_->close();
}

Result<HttpResponse, std::string> HttpClient::request(std::string_view method,
                                                      std::string_view target,
                                                      std::string_view body,
                                                      const HttpHeaders& headers) {
  Impl& c = *impl_;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, endpoint_.host);
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
      tcp::resolver resolver(c.ioc);
      beast::error_code ec;
      auto results = resolver.resolve(endpoint_.host, std::to_string(endpoint_.port), ec);
      if (ec) return fail("cannot resolve " + endpoint_.host + ": " + ec.message());
      ec = c.run([&](auto handler) { c.stream.async_connect(results, handler); });
      if (ec) {
        c.close();
        return fail("cannot connect to " + endpoint_.to_string() + ": " + describe(ec, c.timeout));
      }
      c.connected = true;
    }
    auto ec = c.run([&](auto handler) { http::async_write(c.stream, req, handler); });
    http::response<http::string_body> res;
    if (!ec) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(64ull << 20);
      ec = c.run([&](auto handler) { http::async_read(c.stream, c.buffer, parser, handler); });
      if (!ec) res = parser.release();
    }
    if (ec) {
      c.close();
      const bool stale =
          reused && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                     ec == asio::error::broken_pipe || ec == asio::error::eof);
      if (stale && attempt == 0) continue;
      return fail(endpoint_.to_string() + ": " + describe(ec, c.timeout));
    }
    if (!res.keep_alive()) c.close();
    return HttpResponse{static_cast<int>(res.result_int()), std::move(res.body())};
  }
  return fail(endpoint_.to_string() + ": connection closed");
}

}  // namespace sy
