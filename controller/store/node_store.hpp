#pragma once
// NodeStore: registered nodes in SQLite. Like JobStore it leaves transactions to its caller.
// Heartbeats are not stored (they are many and only their absence matters); liveness changes are.

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/topology/node_topology.hpp"
#include "controller/store/sqlite.hpp"

namespace sy::store {

struct NodeRow {
  std::string name;
  bool alive = true;
  bool drain = false;
  std::string reason;
  topo::NodeTopology topology;
  std::string agent_version;
  std::int64_t registered_ms = 0;
  std::int64_t updated_ms = 0;
  std::string agent_instance;  // the agent process that registered it last (0010)
};

class NodeStore {
 public:
  static Result<NodeStore, StoreError> open(Db& db);

  // Inserts or replaces the node's topology and marks it alive. Drain state is kept.
  Result<void, StoreError> register_node(const std::string& name,
                                         const topo::NodeTopology& topology,
                                         const std::string& agent_version,
                                         const std::string& agent_instance, std::int64_t now_ms);
  Result<void, StoreError> set_alive(const std::string& name, bool alive, const std::string& reason,
                                     std::int64_t now_ms);
  Result<void, StoreError> set_drain(const std::string& name, bool drain, const std::string& reason,
                                     std::int64_t now_ms);
  Result<std::vector<NodeRow>, StoreError> list();

 private:
  explicit NodeStore(Db& db) : db_(&db) {}
  Result<void, StoreError> expect_one(const std::string& name);
  Db* db_;
  Statement upsert_;
  Statement set_alive_;
  Statement set_drain_;
  Statement list_;
};

}  // namespace sy::store
