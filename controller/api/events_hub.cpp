#include "controller/api/events_hub.hpp"

#include <vector>

#include "common/log.hpp"

namespace sy::api {

namespace {

std::string error_message(const std::string& message) {
  return nlohmann::json{{"type", "error"}, {"message", message}}.dump();
}

}  // namespace

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
  std::string text_view = view->dump();
  c->send(nlohmann::json{{"type", "cluster"}, {"cluster", std::move(view).value()}}.dump());
  const std::scoped_lock lock(mutex_);
  subscribers_[c] = {token, *viewer, std::move(text_view)};
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
  // One view per distinct viewer: (user, admin) -> its text, or "" when it could not be made.
  std::map<std::pair<std::string, bool>, std::pair<nlohmann::json, std::string>> views;
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
      std::string text = v ? v->dump() : "";
      it = views
               .emplace(key, std::make_pair(v ? std::move(v).value() : nlohmann::json(),
                                            std::move(text)))
               .first;
    }
    if (it->second.second.empty() || it->second.second == s.last_sent) continue;
    c->send(nlohmann::json{{"type", "cluster"}, {"cluster", it->second.first}}.dump());
    const std::scoped_lock lock(mutex_);
    if (auto sub = subscribers_.find(c); sub != subscribers_.end()) {
      sub->second.last_sent = it->second.second;
    }
  }
}

}  // namespace sy::api
