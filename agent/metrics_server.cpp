#include "agent/metrics_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/metrics_text.hpp"

namespace sy::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct MetricsServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::function<std::string()> r)
      : ioc(io), acceptor(io), render(std::move(r)) {}
  asio::io_context& ioc;
  tcp::acceptor acceptor;
  std::function<std::string()> render;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) self->serve(std::move(socket));
      self->accept();
    });
  }

  void serve(tcp::socket socket) {
    struct Exchange {
      beast::tcp_stream stream;
      beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::response<http::string_body> response;
    };
    auto x = std::make_shared<Exchange>(Exchange{beast::tcp_stream(std::move(socket)), {}, {}, {}});
    x->stream.expires_after(std::chrono::seconds(10));
    http::async_read(x->stream, x->buffer, x->request,
                     [self = shared_from_this(), x](beast::error_code ec, std::size_t) {
                       if (ec) return;
                       auto& res = x->response;
                       res.version(x->request.version());
                       res.keep_alive(false);
                       res.set(http::field::server, "sy-agent/" SY_VERSION);
                       if (x->request.target() != "/metrics") {
                         res.result(http::status::not_found);
                         res.set(http::field::content_type, "text/plain");
                         res.body() = "only /metrics is served here\n";
                       } else if (x->request.method() != http::verb::get) {
                         res.result(http::status::method_not_allowed);
                         res.set(http::field::content_type, "text/plain");
                         res.body() = "use GET\n";
                       } else {
                         res.result(http::status::ok);
                         res.set(http::field::content_type, metrics::kContentType);
                         res.body() = self->render();
                       }
                       res.prepare_payload();
                       http::async_write(x->stream, res, [x](beast::error_code, std::size_t) {
                         beast::error_code ignored;
                         x->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
                       });
                     });
  }
};

MetricsServer::MetricsServer(asio::io_context& ioc, std::function<std::string()> render)
    : impl_(std::make_shared<Impl>(ioc, std::move(render))) {}

MetricsServer::~MetricsServer() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

Result<int, std::string> MetricsServer::listen(const Endpoint& at) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(at.host, ec);
  if (ec) return fail("metrics: '" + at.host + "' is not an IP address");
  const tcp::endpoint ep(address, at.port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("metrics: cannot listen on " + at.to_string() + ": " + ec.message());
  impl_->accept();
  return static_cast<int>(impl_->acceptor.local_endpoint().port());
}

}  // namespace sy::agent
