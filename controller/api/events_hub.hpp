#pragma once
// EventsHub: the dashboard's live updates, a WebSocket at /v1/events. A browser opens it and
// sends {"token": T} (its dashboard session); the hub answers {"type": "cluster", "cluster":
// VIEW} (cluster_view.hpp), then, whenever that viewer's view has changed (checked every
// `period`), only what changed: {"type": "cluster_delta", "nodes": [NODE...], "totals",
// "queue", "queue_more"} with the nodes whose cells changed (by name) and the other parts only
// when they changed. When nodes come, go or change leaf, the whole view is sent again. A bad or
// expired token gets {"type": "error", "message": ...} and the connection is closed.
//
// Checking views on a timer rather than on every change bounds the work a busy cluster costs:
// one view per distinct viewer per period, however many jobs change in it; sending what changed
// keeps a 10,000-node dashboard from costing a whole view per second on the wire.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/result.hpp"
#include "controller/api/cluster_view.hpp"
#include "controller/api/websocket.hpp"

namespace sy::api {

// What a subscriber was last sent, as hashes of its parts' text (not the text: a viewer of
// 10,000 nodes would hold megabytes).
struct DashboardSent {
  std::size_t layout = 0;                              // leaves and their nodes' names
  std::unordered_map<std::string, std::size_t> nodes;  // node name -> its object
  std::size_t totals = 0, queue = 0;
};

// A cluster view cut into the parts an update names. Moved, never copied: node_objects point
// into `view`'s nodes, which a move of the JSON keeps where they are and a copy would not.
struct ClusterParts {
  ClusterParts() = default;
  ClusterParts(ClusterParts&&) = default;
  ClusterParts& operator=(ClusterParts&&) = default;
  ClusterParts(const ClusterParts&) = delete;
  ClusterParts& operator=(const ClusterParts&) = delete;
  ~ClusterParts() = default;

  nlohmann::json view;
  std::size_t layout = 0, totals = 0, queue = 0;
  std::unordered_map<std::string, std::size_t> nodes;
  std::vector<const nlohmann::json*> node_objects;  // into `view`, in its order
};
ClusterParts cluster_parts(nlohmann::json view);
// The message that brings a dashboard from what it was `sent` to `now`: the whole view, a
// delta, or "" when nothing changed; `sent` becomes what the dashboard will have.
std::string cluster_update(const ClusterParts& now, DashboardSent& sent);

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
    DashboardSent sent;
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
