#include "controller/nodes/agent_gateway.hpp"

#include <algorithm>

#include "common/agent_protocol.hpp"
#include "common/log.hpp"

namespace sy::nodes {

AgentGateway::AgentGateway(boost::asio::io_context& ioc, store::CommitQueue& writes,
                           NodeRegistry& registry, StagingTracker& staging, GatewayOptions options,
                           Clock now_ms)
    : writes_(writes),
      registry_(registry),
      staging_(staging),
      options_(options),
      now_ms_(std::move(now_ms)),
      timer_(ioc) {}

void AgentGateway::start() {
  check_liveness();
}

void AgentGateway::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopped_ = true;
  timer_.cancel();
}

void AgentGateway::refuse(const std::shared_ptr<api::WebSocketConnection>& c,
                          const std::string& why) {
  SY_LOG(warn, "agents") << c->remote() << ": " << why;
  c->send(protocol::error_message(why).dump());
  c->close();
}

void AgentGateway::on_message(const std::shared_ptr<api::WebSocketConnection>& c,
                              std::string text) {
  auto message = nlohmann::json::parse(text, nullptr, false);
  auto type = protocol::message_type(message);
  if (!type) return refuse(c, type.error());
  if (type.value() == "register") return handle_register(c, message);
  if (type.value() == "heartbeat") return handle_heartbeat(c);
  if (type.value() == "drain") return handle_stopping(c, false);
  if (type.value() == "stopped") return handle_stopping(c, true);
  if (type.value() == "stage_report") return handle_stage_report(c, message);
  if (type.value() == "job_report") return handle_job_report(c, message);
  if (type.value() == "job_output" || type.value() == "exec_request" ||
      type.value() == "exec_report") {
    const std::string node = node_of(c);
    if (node.empty()) return refuse(c, type.value() + " before register");
    if (on_job_message_) on_job_message_(node, type.value(), message);
    return;
  }
  if (type.value() == "manifest_request") {
    const std::string node = node_of(c);
    if (node.empty()) return refuse(c, "manifest_request before register");
    auto r = protocol::read_manifest_request(message);
    if (!r) return refuse(c, r.error());
    if (on_manifest_request_) on_manifest_request_(node, std::move(r).value());
    return;
  }
  refuse(c, "unknown message type '" + type.value() + "'");
}

void AgentGateway::handle_register(const std::shared_ptr<api::WebSocketConnection>& c,
                                   const nlohmann::json& m) {
  auto reg = protocol::read_register(m);
  if (!reg) return refuse(c, reg.error());
  auto registration = std::make_shared<protocol::Register>(std::move(reg).value());
  // Over TLS a node is who its certificate says: one node's agent cannot speak for another.
  const api::Peer& peer = c->peer();
  if (peer.transport == api::Peer::Transport::tls && peer.certificate_name != registration->node) {
    return refuse(c, "certificate is for '" + peer.certificate_name + "', not node '" +
                         registration->node + "'");
  }
  const std::int64_t now = now_ms_();
  writes_.submit(
      [registration, now](store::Stores& s) {
        return s.nodes.register_node(registration->node, registration->topology,
                                     registration->agent_version, registration->instance, now);
      },
      [this, c, registration, now](Result<void, store::StoreError> committed) {
        if (!committed) return refuse(c, "registration not saved: " + committed.error().message);
        const bool same_agent = registry_.registered(
            registration->node, registration->topology, registration->agent_version, now,
            registration->datasets, registration->instance);
        std::shared_ptr<api::WebSocketConnection> previous;
        std::uint64_t number = 0;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          previous = connection_of_[registration->node].connection.lock();
          if (previous == c) previous.reset();
          if (previous) node_of_.erase(previous.get());
          node_of_[c.get()] = registration->node;
          number = ++registrations_;
          connection_of_[registration->node] = {c, number};
        }
        // A node has one agent: a new registration replaces a connection left half-open.
        if (previous) previous->close();
        SY_LOG(info, "agents") << "node " << registration->node << " registered from "
                               << c->remote() << " (" << registration->topology.gpu_count()
                               << " GPUs)";
        if (on_change_) on_change_();
        if (on_job_reports_) {
          on_job_reports_(registration->node, registration->jobs,
                          same_agent ? Reports::same_agent : Reports::new_agent, number);
        }
        c->send(protocol::registered_message(registration->node, options_.heartbeat_interval_ms)
                    .dump());
      });
}

void AgentGateway::handle_heartbeat(const std::shared_ptr<api::WebSocketConnection>& c) {
  std::string node;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = node_of_.find(c.get());
    if (it != node_of_.end()) node = it->second;
  }
  if (node.empty()) return refuse(c, "heartbeat before register");
  registry_.heard_from(node, now_ms_());
  if (registry_.is_alive(node)) return;
  // Declared DOWN while this connection stayed open (a healed partition): its jobs were requeued
  // or failed meanwhile, and what still runs there is only known from a fresh registration
  // (which lists every job, so strays are stopped). Make the agent register again.
  refuse(c, "node " + node + " was declared DOWN while this connection was silent; register again");
}

void AgentGateway::handle_stopping(const std::shared_ptr<api::WebSocketConnection>& c,
                                   bool stopped) {
  const std::string node = node_of(c);
  if (node.empty()) return refuse(c, "drain before register");
  // An administrator's drain stays as it is, with its reason.
  const auto view = registry_.get(node);
  if (view && view->state == NodeState::draining && view->reason != protocol::kDrainOnStopReason) {
    return;
  }
  const std::string reason = stopped ? "its agent stopped after its jobs finished"
                                     : std::string(protocol::kDrainOnStopReason);
  const std::int64_t now = now_ms_();
  writes_.submit(
      [node, stopped, reason, now](store::Stores& s) -> Result<void, store::StoreError> {
        if (!stopped) return s.nodes.set_drain(node, true, reason, now);
        if (auto undrained = s.nodes.set_drain(node, false, "", now); !undrained) return undrained;
        return s.nodes.set_alive(node, false, reason, now);
      },
      [this, node, stopped, reason](Result<void, store::StoreError> committed) {
        if (!committed) {
          SY_LOG(warn, "agents") << "node " << node << ": " << committed.error().message;
          return;
        }
        if (stopped) {
          registry_.set_drain(node, false, "");
          registry_.set_alive(node, false, reason);
        } else {
          registry_.set_drain(node, true, reason);
        }
        SY_LOG(info, "agents") << "node " << node << (stopped ? " is DOWN: " : " is DRAINING: ")
                               << reason;
        if (on_change_) on_change_();
      });
}

void AgentGateway::on_closed(const std::shared_ptr<api::WebSocketConnection>& c) {
  std::string node;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = node_of_.find(c.get());
    if (it == node_of_.end()) return;
    node = it->second;
    SY_LOG(info, "agents") << "node " << node << ": connection closed";
    if (connection_of_[node].connection.lock() == c) connection_of_.erase(node);
    node_of_.erase(it);
  }
  staging_.fail_node(node,
                     "the agent's connection closed before the stage ended; stage again to "
                     "resume where it stopped",
                     now_ms_());
}

std::string AgentGateway::node_of(const std::shared_ptr<api::WebSocketConnection>& c) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = node_of_.find(c.get());
  return it == node_of_.end() ? std::string() : it->second;
}

bool AgentGateway::connected(const std::string& node) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = connection_of_.find(node);
  return it != connection_of_.end() && !it->second.connection.expired();
}

std::uint64_t AgentGateway::send_to(const std::string& node, const nlohmann::json& message) {
  std::shared_ptr<api::WebSocketConnection> c;
  std::uint64_t number = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connection_of_.find(node);
    if (it != connection_of_.end()) {
      c = it->second.connection.lock();
      number = it->second.registration;
    }
  }
  if (!c) return 0;
  c->send(message.dump());
  return number;
}

std::string AgentGateway::address_of(const std::string& node) {
  std::shared_ptr<api::WebSocketConnection> c;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = connection_of_.find(node);
    if (it != connection_of_.end()) c = it->second.connection.lock();
  }
  if (!c) return {};
  std::string remote = c->remote();  // "ip:port", "[v6]:port"
  remote = remote.substr(0, remote.rfind(':'));
  if (remote.size() > 2 && remote.front() == '[') remote = remote.substr(1, remote.size() - 2);
  return remote;
}

void AgentGateway::handle_stage_report(const std::shared_ptr<api::WebSocketConnection>& c,
                                       const nlohmann::json& m) {
  const std::string node = node_of(c);
  if (node.empty()) return refuse(c, "stage_report before register");
  auto report = protocol::read_stage_report(m);
  if (!report) return refuse(c, report.error());
  if (!staging_.update(node, report.value(), now_ms_())) {
    SY_LOG(warn, "agents") << "node " << node << ": report for unknown stage order "
                           << report->request;
    return;
  }
  if (report->state == "done") {
    registry_.set_datasets(node, report->cache);
    if (on_change_) on_change_();  // data affinity sees the new copy
  }
}

void AgentGateway::handle_job_report(const std::shared_ptr<api::WebSocketConnection>& c,
                                     const nlohmann::json& m) {
  const std::string node = node_of(c);
  if (node.empty()) return refuse(c, "job_report before register");
  auto report = protocol::read_job_report(m);
  if (!report) return refuse(c, report.error());
  if (on_job_reports_) on_job_reports_(node, {report.value()}, Reports::one, 0);
}

void AgentGateway::check_liveness() {
  const std::int64_t now = now_ms_();
  for (const std::string& node : registry_.silent_since(now, options_.heartbeat_timeout_ms)) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!going_down_.insert(node).second) continue;
    }
    const std::string reason = "no heartbeat for " +
                               std::to_string(options_.heartbeat_timeout_ms / 1000.0).substr(0, 4) +
                               "s";
    writes_.submit([node, reason,
                    now](store::Stores& s) { return s.nodes.set_alive(node, false, reason, now); },
                   [this, node, reason](Result<void, store::StoreError> committed) {
                     {
                       std::lock_guard<std::mutex> lock(mutex_);
                       going_down_.erase(node);
                     }
                     if (!committed) return;
                     registry_.set_alive(node, false, reason);
                     if (on_change_) on_change_();
                     SY_LOG(warn, "agents") << "node " << node << " is DOWN: " << reason;
                   });
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  const auto period = std::clamp<std::int64_t>(options_.heartbeat_timeout_ms / 4, 50, 1000);
  timer_.expires_after(std::chrono::milliseconds(period));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) check_liveness();
  });
}

}  // namespace sy::nodes
