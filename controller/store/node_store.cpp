#include "controller/store/node_store.hpp"

#include "common/topology/topology_file.hpp"

namespace sy::store {

Result<NodeStore, StoreError> NodeStore::open(Db& db) {
  NodeStore s(db);
  auto prepared = db.prepare_all({
      {&s.upsert_,
       "INSERT INTO nodes (name, alive, reason, gpus, topology_json, agent_version, registered_ms, "
       "updated_ms, agent_instance) VALUES (?1, 1, '', ?2, ?3, ?4, ?5, ?5, ?6) ON CONFLICT (name) "
       "DO UPDATE SET alive = 1, reason = CASE WHEN drain = 1 THEN reason ELSE '' END, gpus = ?2, "
       "topology_json = ?3, agent_version = ?4, registered_ms = ?5, updated_ms = ?5, "
       "agent_instance = ?6"},
      {&s.set_alive_, "UPDATE nodes SET alive = ?2, reason = ?3, updated_ms = ?4 WHERE name = ?1"},
      {&s.set_drain_, "UPDATE nodes SET drain = ?2, reason = ?3, updated_ms = ?4 WHERE name = ?1"},
      {&s.list_,
       "SELECT name, alive, drain, reason, topology_json, agent_version, registered_ms, "
       "updated_ms, "
       "agent_instance FROM nodes ORDER BY name"},
  });
  if (!prepared) return fail(std::move(prepared).error());
  return s;
}

Result<void, StoreError> NodeStore::register_node(const std::string& name,
                                                  const topo::NodeTopology& topology,
                                                  const std::string& agent_version,
                                                  const std::string& agent_instance,
                                                  std::int64_t now_ms) {
  upsert_.bind(1, std::string_view(name))
      .bind(2, std::int64_t{topology.gpu_count()})
      .bind(3, std::string_view(topo::node_topology_to_json(topology).dump()))
      .bind(4, std::string_view(agent_version))
      .bind(5, now_ms)
      .bind(6, std::string_view(agent_instance));
  return upsert_.run();
}

Result<void, StoreError> NodeStore::expect_one(const std::string& name) {
  if (db_->changes() == 0)
    return fail(StoreError::not_found("node " + name + " is not registered"));
  return {};
}

Result<void, StoreError> NodeStore::set_alive(const std::string& name, bool alive,
                                              const std::string& reason, std::int64_t now_ms) {
  set_alive_.bind(1, std::string_view(name))
      .bind(2, std::int64_t{alive})
      .bind(3, std::string_view(reason))
      .bind(4, now_ms);
  if (auto r = set_alive_.run(); !r) return r;
  return expect_one(name);
}

Result<void, StoreError> NodeStore::set_drain(const std::string& name, bool drain,
                                              const std::string& reason, std::int64_t now_ms) {
  set_drain_.bind(1, std::string_view(name))
      .bind(2, std::int64_t{drain})
      .bind(3, std::string_view(reason))
      .bind(4, now_ms);
  if (auto r = set_drain_.run(); !r) return r;
  return expect_one(name);
}

Result<std::vector<NodeRow>, StoreError> NodeStore::list() {
  std::vector<NodeRow> out;
  auto walked = list_.each([&]() -> Result<void, StoreError> {
    NodeRow n;
    n.name = list_.column_text(0);
    n.alive = list_.column_int(1) != 0;
    n.drain = list_.column_int(2) != 0;
    n.reason = list_.column_text(3);
    auto topology = topo::node_topology_from_document(
        Document::from_value(nlohmann::json::parse(list_.column_text(4), nullptr, false)));
    if (!topology) {
      return fail(StoreError::internal(
          "node " + n.name + " has an unreadable topology: " + topology.error().to_string()));
    }
    n.topology = std::move(topology).value();
    n.agent_version = list_.column_text(5);
    n.registered_ms = list_.column_int(6);
    n.updated_ms = list_.column_int(7);
    n.agent_instance = list_.column_text(8);
    out.push_back(std::move(n));
    return {};
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

}  // namespace sy::store
