#pragma once
// NodeRegistry: the controller's live view of its nodes: what each reported, whether it is
// draining, and when it was last heard from. Time is passed in, so liveness rules are testable
// without clocks. Thread-safe. Persistence is the caller's (NodeStore via the CommitQueue).

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/agent_protocol.hpp"
#include "common/topology/cluster_network.hpp"
#include "common/topology/node_topology.hpp"
#include "controller/store/node_store.hpp"

namespace sy::nodes {

enum class NodeState { up, draining, down };
std::string_view node_state_name(NodeState s);  // "UP", "DRAINING", "DOWN"

struct NodeView {
  std::string name;
  NodeState state = NodeState::up;
  std::string reason;
  topo::NodeTopology topology;
  std::string leaf;  // empty when the cluster network does not name the node
  std::string spine;
  std::string agent_version;
  std::int64_t registered_ms = 0;
  std::int64_t last_heard_ms = 0;
  // What its agent reported holding in its Tier-0 cache (not persisted: agents re-report it
  // when they register again after a controller restart).
  std::vector<protocol::CachedDataset> datasets;
};

class NodeRegistry {
 public:
  explicit NodeRegistry(topo::ClusterNetwork network) : network_(std::move(network)) {}

  // At start, from the database. Every live node gets a fresh heartbeat window from `now_ms`:
  // its agent has that long to reconnect before it is declared DOWN.
  void load(const std::vector<store::NodeRow>& rows, std::int64_t now_ms);
  void registered(const std::string& name, const topo::NodeTopology& topology,
                  const std::string& agent_version, std::int64_t now_ms,
                  std::vector<protocol::CachedDataset> datasets = {});
  // False when the node is unknown (it must register first).
  bool heard_from(const std::string& name, std::int64_t now_ms);
  // Live nodes not heard from for longer than `timeout_ms`.
  std::vector<std::string> silent_since(std::int64_t now_ms, std::int64_t timeout_ms) const;
  void set_alive(const std::string& name, bool alive, const std::string& reason);
  void set_drain(const std::string& name, bool drain, const std::string& reason);
  bool is_alive(const std::string& name) const;
  // The node's cache after a stage finished (its agent lists it whole).
  void set_datasets(const std::string& name, std::vector<protocol::CachedDataset> datasets);

  std::vector<NodeView> list() const;  // by name
  std::optional<NodeView> get(const std::string& name) const;

 private:
  struct Entry {
    store::NodeRow row;
    std::int64_t last_heard_ms = 0;
    std::vector<protocol::CachedDataset> datasets;
  };
  NodeView view(const Entry& e) const;

  topo::ClusterNetwork network_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> nodes_;
};

}  // namespace sy::nodes
