#pragma once
// EventsHub: the dashboard's live updates, a WebSocket at /v1/events. A browser opens it and
// sends {"token": T} (its dashboard session); from then on the hub sends
// {"type": "cluster", "cluster": VIEW} (cluster_view.hpp) at once and again whenever that
// viewer's view has changed, checked every `period`. A bad or expired token gets
// {"type": "error", "message": ...} and the connection is closed.
//
// Checking views on a timer rather than on every change bounds the work a busy cluster costs:
// one view per distinct viewer per period, however many jobs change in it.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/result.hpp"
#include "controller/api/cluster_view.hpp"
#include "controller/api/websocket.hpp"

namespace sy::api {

class EventsHub : public WebSocketHandler {
 public:
  // The viewer a session token stands for now (nullopt: unknown or expired).
  using TokenCheck = std::function<std::optional<Viewer>(const std::string& token)>;
  using ViewOf = std::function<Result<nlohmann::json, std::string>(const Viewer&)>;
  EventsHub(boost::asio::io_context& ioc, TokenCheck check, ViewOf view,
            std::chrono::milliseconds period);
  ~EventsHub() override;
  void stop();  // closes every connection; no more checks

  void on_message(const std::shared_ptr<WebSocketConnection>& c, std::string text) override;
  void on_closed(const std::shared_ptr<WebSocketConnection>& c) override;

  static constexpr std::size_t kMaxSubscribers = 1000;

 private:
  struct Subscriber {
    std::string token;
    Viewer viewer;
    std::string last_sent;  // the view last sent, as text
  };
  void arm();
  void push_changes();
  TokenCheck check_;
  ViewOf view_;
  std::chrono::milliseconds period_;
  boost::asio::steady_timer timer_;
  std::mutex mutex_;
  std::map<std::shared_ptr<WebSocketConnection>, Subscriber> subscribers_;
  bool stopped_ = false;
};

}  // namespace sy::api
