// A WebSocket peer that stops reading must not make the server hold everything it is sent.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "controller/api/http_server.hpp"

using namespace sy;
using namespace sy::api;
namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

struct NoApi : RequestHandler {
  void handle(ApiRequest, Responder respond) override {
    respond(error_response(404, "not_found", "no API here"));
  }
};

// Answers the first message with `count` messages of `size` bytes, all at once.
struct Flood : WebSocketHandler {
  int count = 0;
  std::size_t size = 0;
  std::atomic<bool> closed{false};
  void on_message(const std::shared_ptr<WebSocketConnection>& c, std::string) override {
    const std::string chunk(size, 'x');
    for (int i = 0; i < count; ++i)
      c->send(chunk);
  }
  void on_closed(const std::shared_ptr<WebSocketConnection>&) override { closed = true; }
};

// Connects, says one thing, then never reads; true when the server dropped the connection
// within `wait`.
bool dropped_while_not_reading(int count, std::size_t size, std::chrono::seconds wait) {
  asio::io_context ioc(1);
  NoApi api;
  Flood flood;
  flood.count = count;
  flood.size = size;
  HttpServerOptions options;
  options.max_websocket_queued_bytes = 4 << 20;
  HttpServer server(ioc, api, options);
  server.add_websocket("/ws", flood);
  auto bound = server.listen({"127.0.0.1", 0});
  REQUIRE(bound.ok());
  std::thread serving([&] { ioc.run(); });

  asio::io_context client_ioc;
  beast::websocket::stream<beast::tcp_stream> ws(client_ioc);
  // A small receive buffer, so the kernel does not take the whole flood off the server.
  beast::get_lowest_layer(ws).socket().open(asio::ip::tcp::v4());
  beast::get_lowest_layer(ws).socket().set_option(asio::socket_base::receive_buffer_size(65536));
  beast::get_lowest_layer(ws).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), bound->port));
  ws.handshake("127.0.0.1", "/ws");
  ws.write(asio::buffer(std::string("go")));
  const auto until = std::chrono::steady_clock::now() + wait;
  while (!flood.closed && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const bool dropped = flood.closed;
  beast::error_code ignored;
  beast::get_lowest_layer(ws).socket().close(ignored);
  ioc.stop();
  serving.join();
  return dropped;
}

}  // namespace

TEST_CASE("a WebSocket peer that does not read is dropped once its queue passes the bound",
          "[websocket]") {
  // 64 MiB for a peer that reads nothing, against a bound of 4 MiB.
  CHECK(dropped_while_not_reading(64, 1 << 20, std::chrono::seconds(20)));
}

TEST_CASE("a WebSocket peer slow to read is kept while its queue is under the bound",
          "[websocket]") {
  // 2 MiB queued, under the bound of 4 MiB: the connection stays (the check waits 2 s).
  CHECK_FALSE(dropped_while_not_reading(8, 256 << 10, std::chrono::seconds(2)));
}
