#include "controller/nodes/node_registry.hpp"

namespace sy::nodes {

std::string_view node_state_name(NodeState s) {
  switch (s) {
    case NodeState::up:
      return "UP";
    case NodeState::draining:
      return "DRAINING";
    case NodeState::down:
      return "DOWN";
  }
  return "DOWN";
}

void NodeRegistry::set_topology(Entry& e, const topo::NodeTopology& topology) {
  e.topology = std::make_shared<const topo::NodeTopology>(topology);
  e.shape = shapes_.intern(topology);
}

void NodeRegistry::load(const std::vector<store::NodeRow>& rows, std::int64_t now_ms,
                        std::int64_t recovery_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  recovery_until_ms_ = now_ms + recovery_ms;
  for (const auto& row : rows) {
    Entry e;
    e.row = row;
    e.row.topology = {};
    e.last_heard_ms = now_ms;
    e.awaiting = row.alive && recovery_ms > 0;
    set_topology(e, row.topology);
    if (auto old = nodes_.find(row.name); old != nodes_.end() && old->second.awaiting) --awaiting_;
    if (e.awaiting) ++awaiting_;
    nodes_[row.name] = std::move(e);
  }
}

std::size_t NodeRegistry::awaiting_registration() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return awaiting_;
}

bool NodeRegistry::registered(const std::string& name, const topo::NodeTopology& topology,
                              const std::string& agent_version, std::int64_t now_ms,
                              std::vector<protocol::CachedDataset> datasets,
                              const std::string& agent_instance) {
  std::lock_guard<std::mutex> lock(mutex_);
  Entry& e = nodes_[name];
  const bool same_agent = !agent_instance.empty() && e.row.agent_instance == agent_instance;
  e.row.agent_instance = agent_instance;
  e.datasets = std::move(datasets);
  e.row.name = name;
  if (!e.topology || *e.topology != topology) set_topology(e, topology);
  if (e.awaiting) {
    e.awaiting = false;
    --awaiting_;
  }
  e.row.agent_version = agent_version;
  e.row.alive = true;
  if (!e.row.drain) e.row.reason.clear();
  e.row.registered_ms = now_ms;
  e.last_heard_ms = now_ms;
  return same_agent;
}

void NodeRegistry::set_datasets(const std::string& name,
                                std::vector<protocol::CachedDataset> datasets) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = nodes_.find(name);
  if (it != nodes_.end()) it->second.datasets = std::move(datasets);
}

bool NodeRegistry::heard_from(const std::string& name, std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return false;
  it->second.last_heard_ms = now_ms;
  return true;
}

std::vector<std::string> NodeRegistry::silent_since(std::int64_t now_ms,
                                                    std::int64_t timeout_ms) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  const bool recovering = awaiting_ > 0 && now_ms < recovery_until_ms_;
  for (const auto& [name, e] : nodes_) {
    if (recovering && e.awaiting) continue;
    if (e.row.alive && now_ms - e.last_heard_ms > timeout_ms) out.push_back(name);
  }
  return out;
}

void NodeRegistry::set_alive(const std::string& name, bool alive, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = nodes_.find(name); it != nodes_.end()) {
    it->second.row.alive = alive;
    it->second.row.reason = reason;
    if (!alive && it->second.awaiting) {
      it->second.awaiting = false;  // judged: recovery waits no longer for it
      --awaiting_;
    }
  }
}

void NodeRegistry::set_drain(const std::string& name, bool drain, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = nodes_.find(name); it != nodes_.end()) {
    it->second.row.drain = drain;
    it->second.row.reason = reason;
  }
}

bool NodeRegistry::is_alive(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = nodes_.find(name);
  return it != nodes_.end() && it->second.row.alive;
}

namespace {
NodeState state_of_row(const store::NodeRow& row) {
  return !row.alive ? NodeState::down : row.drain ? NodeState::draining : NodeState::up;
}
}  // namespace

NodeView NodeRegistry::view(const Entry& e) const {
  NodeView v;
  v.name = e.row.name;
  v.state = state_of_row(e.row);
  v.reason = e.row.reason;
  static const auto kNone = std::make_shared<const topo::NodeTopology>();
  v.topology = e.topology ? e.topology : kNone;
  v.shape = e.shape ? e.shape : kNone;
  v.leaf = network_.leaf_of(e.row.name).value_or("");
  v.spine = network_.spine_of(e.row.name).value_or("");
  v.agent_version = e.row.agent_version;
  v.registered_ms = e.row.registered_ms;
  v.last_heard_ms = e.last_heard_ms;
  v.awaiting_registration = e.awaiting;
  v.datasets = e.datasets;
  return v;
}

std::vector<NodeView> NodeRegistry::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<NodeView> out;
  for (const auto& [name, e] : nodes_)
    out.push_back(view(e));
  return out;
}

std::optional<NodeView> NodeRegistry::get(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return std::nullopt;
  return view(it->second);
}

std::optional<NodeState> NodeRegistry::state_of(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return std::nullopt;
  return state_of_row(it->second.row);
}

}  // namespace sy::nodes
