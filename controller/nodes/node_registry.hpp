#pragma once
// NodeRegistry: the controller's live view of its nodes: what each reported, whether it is
// draining, and when it was last heard from. Time is passed in, so liveness rules are testable
// without clocks. Thread-safe. Persistence is the caller's (NodeStore via the CommitQueue).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/agent_protocol.hpp"
#include "common/topology/cluster_network.hpp"
#include "common/topology/node_topology.hpp"
#include "common/topology/topology_shapes.hpp"
#include "controller/store/node_store.hpp"

namespace sy::nodes {

enum class NodeState { up, draining, down };
std::string_view node_state_name(NodeState s);  // "UP", "DRAINING", "DOWN"

struct NodeView {
  std::string name;
  NodeState state = NodeState::up;
  std::string reason;
  // What its agent reported (never null), and the shape it shares with nodes of the same
  // hardware: what the scheduler places on (topology_shapes.hpp).
  std::shared_ptr<const topo::NodeTopology> topology;
  std::shared_ptr<const topo::NodeTopology> shape;
  std::string leaf;  // empty when the cluster network does not name the node
  std::string spine;
  std::string agent_version;
  std::int64_t registered_ms = 0;
  std::int64_t last_heard_ms = 0;
  // Up before a controller restart and not registered since: its jobs are kept, but nothing
  // new is placed on it until its agent is back.
  bool awaiting_registration = false;
  // What its agent reported holding in its Tier-0 cache (not persisted: agents re-report it
  // when they register again after a controller restart).
  std::vector<protocol::CachedDataset> datasets;
};

class NodeRegistry {
 public:
  explicit NodeRegistry(topo::ClusterNetwork network) : network_(std::move(network)) {}

  // At start, from the database. Recovery: while the fleet registers again, a live node that
  // has not registered yet is not silent until `recovery_ms` after `now_ms` (every agent
  // reconnects at once after a controller restart, and a large fleet takes a while to get
  // through); a node that registered is judged by its heartbeats again.
  void load(const std::vector<store::NodeRow>& rows, std::int64_t now_ms,
            std::int64_t recovery_ms = 0);
  // Live nodes loaded at start that have not registered since; 0 once recovery is over.
  std::size_t awaiting_registration() const;
  // True when the agent process that registered the node last (`agent_instance`, kept in the
  // node's row across controller restarts) registers it again: it still knows every order it
  // was given. False for a new process, or an instance not known (empty).
  bool registered(const std::string& name, const topo::NodeTopology& topology,
                  const std::string& agent_version, std::int64_t now_ms,
                  std::vector<protocol::CachedDataset> datasets = {},
                  const std::string& agent_instance = {});
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
  // Only the node's state (nullopt: unknown), without copying its view: per-job checks.
  std::optional<NodeState> state_of(const std::string& name) const;

 private:
  struct Entry {
    store::NodeRow row;  // row.topology is left empty: `topology` holds it
    std::shared_ptr<const topo::NodeTopology> topology;
    std::shared_ptr<const topo::NodeTopology> shape;
    std::int64_t last_heard_ms = 0;
    std::vector<protocol::CachedDataset> datasets;
    bool awaiting = false;  // loaded at start, not registered since
  };
  NodeView view(const Entry& e) const;
  void set_topology(Entry& e, const topo::NodeTopology& topology);

  topo::ClusterNetwork network_;
  topo::TopologyShapes shapes_;
  std::size_t awaiting_ = 0;
  std::int64_t recovery_until_ms_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> nodes_;
};

}  // namespace sy::nodes
