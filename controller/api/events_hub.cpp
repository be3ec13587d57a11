#include "controller/api/events_hub.hpp"

#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/log.hpp"

namespace sy::api {

namespace {

std::string error_message(const std::string& message) {
  return nlohmann::json{{"type", "error"}, {"message", message}}.dump();
}

std::size_t hash_of(const nlohmann::json& part) {
  return std::hash<std::string>{}(part.dump());
}

}  // namespace

ClusterParts cluster_parts(nlohmann::json view) {
  ClusterParts p;
  p.view = std::move(view);
  nlohmann::json layout = nlohmann::json::array();
  for (const auto& leaf : p.view["leaves"]) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& node : leaf["nodes"]) {
      const std::string name = node["name"].get<std::string>();
      names.push_back(name);
      p.nodes[name] = hash_of(node);
      p.node_objects.push_back(&node);
    }
    layout.push_back({leaf["leaf"], leaf["spine"], std::move(names)});
  }
  p.layout = hash_of(layout);
  p.totals = hash_of(p.view["totals"]);
  p.queue = hash_of({p.view["queue"], p.view["queue_more"]});
  return p;
}

std::string cluster_update(const ClusterParts& now, DashboardSent& sent) {
  if (now.layout != sent.layout) {
    sent = {now.layout, now.nodes, now.totals, now.queue};
    return nlohmann::json{{"type", "cluster"}, {"cluster", now.view}}.dump();
  }
  nlohmann::json delta{{"type", "cluster_delta"}};
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto* node : now.node_objects) {
    const std::string& name = (*node)["name"].get_ref<const std::string&>();
    const std::size_t h = now.nodes.at(name);
    auto& was = sent.nodes[name];
    if (was == h) continue;
    was = h;
    nodes.push_back(*node);
  }
  bool changed = !nodes.empty();
  if (changed) delta["nodes"] = std::move(nodes);
  if (now.totals != sent.totals) {
    sent.totals = now.totals;
    delta["totals"] = now.view["totals"];
    changed = true;
  }
  if (now.queue != sent.queue) {
    sent.queue = now.queue;
    delta["queue"] = now.view["queue"];
    delta["queue_more"] = now.view["queue_more"];
    changed = true;
  }
  return changed ? delta.dump() : std::string();
}

EventsHub::EventsHub(boost::asio::io_context& ioc, TokenCheck check, ViewOf view,
                     std::chrono::milliseconds period)
    : check_(std::move(check)), view_(std::move(view)), period_(period), timer_(ioc) {
  arm();
}

EventsHub::~EventsHub() {
  timer_.cancel();
}

void EventsHub::stop() {
  std::map<std::shared_ptr<WebSocketConnection>, Subscriber> closing;
  {
    const std::scoped_lock lock(mutex_);
    stopped_ = true;
    closing.swap(subscribers_);
  }
  timer_.cancel();
  for (auto& [c, s] : closing)
    c->close();
}

void EventsHub::arm() {
  timer_.expires_after(period_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    push_changes();
    arm();
  });
}

void EventsHub::on_message(const std::shared_ptr<WebSocketConnection>& c, std::string text) {
  {
    const std::scoped_lock lock(mutex_);
    if (stopped_ || subscribers_.count(c) > 0) return;  // only the first message means anything
    if (subscribers_.size() >= kMaxSubscribers) {
      c->send(error_message("too many dashboards are open; try again later"));
      return c->close();
    }
  }
  const auto message = nlohmann::json::parse(text, nullptr, false);
  if (!message.is_object() || !message.contains("token") || !message["token"].is_string()) {
    c->send(error_message("send {\"token\": T} first, T from sy dashboard"));
    return c->close();
  }
  const std::string token = message["token"].get<std::string>();
  const auto viewer = check_(token);
  if (!viewer) {
    c->send(error_message("unknown or expired session token: run sy dashboard for a new one"));
    return c->close();
  }
  auto view = view_(*viewer);
  if (!view) {
    c->send(error_message(view.error()));
    return c->close();
  }
  DashboardSent sent;
  c->send(cluster_update(cluster_parts(std::move(view).value()), sent));
  const std::scoped_lock lock(mutex_);
  subscribers_[c] = {token, *viewer, std::move(sent)};
}

void EventsHub::on_closed(const std::shared_ptr<WebSocketConnection>& c) {
  const std::scoped_lock lock(mutex_);
  subscribers_.erase(c);
}

void EventsHub::push_changes() {
  std::vector<std::pair<std::shared_ptr<WebSocketConnection>, Subscriber>> now;
  {
    const std::scoped_lock lock(mutex_);
    now.assign(subscribers_.begin(), subscribers_.end());
  }
  // One view per distinct viewer: (user, admin) -> its parts, or none when it could not be made.
  std::map<std::pair<std::string, bool>, std::optional<ClusterParts>> views;
  for (auto& [c, s] : now) {
    const auto viewer = check_(s.token);
    if (!viewer) {
      c->send(error_message("the session expired: run sy dashboard for a new one"));
      c->close();
      const std::scoped_lock lock(mutex_);
      subscribers_.erase(c);
      continue;
    }
    const auto key = std::make_pair(viewer->user, viewer->admin);
    auto it = views.find(key);
    if (it == views.end()) {
      auto v = view_(*viewer);
      if (!v) {
        SY_LOG(warn, "dashboard") << "cannot make the cluster view: " << v.error();
      }
      it = views
               .emplace(key, v ? std::optional<ClusterParts>(cluster_parts(std::move(v).value()))
                               : std::nullopt)
               .first;
    }
    if (!it->second) continue;
    std::string update = cluster_update(*it->second, s.sent);
    if (update.empty()) continue;
    c->send(std::move(update));
    const std::scoped_lock lock(mutex_);
    if (auto sub = subscribers_.find(c); sub != subscribers_.end()) sub->second.sent = s.sent;
  }
}

}  // namespace sy::api
