#include "controller/sim/sim_cluster.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "common/document.hpp"
#include "common/schema_validator.hpp"
#include "common/topology/topology_file.hpp"
#include "common/unit_fields.hpp"

namespace sy::sim {

int SimCluster::total_gpus() const {
  int n = 0;
  for (const auto& node : nodes)
    n += node.topology->gpu_count();
  return n;
}

int SimCluster::max_gpus_per_node() const {
  int n = 0;
  for (const auto& t : topologies)
    n = std::max(n, t->gpu_count());
  return n;
}

Result<SimCluster, SpecError> load_sim_cluster(const std::string& path) {
  auto doc = load_yaml_file(path);
  if (!doc) return fail(std::move(doc).error());
  static const auto schema = SchemaValidator::builtin("sim-cluster.schema.json");
  if (auto valid = schema->validate(doc.value()); !valid) return fail(std::move(valid).error());
  const auto& j = doc->root();
  const std::string dir =
      path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  SimCluster c;
  if (j.contains("tier0_capacity")) {
    auto mib =
        size_field_mib(doc.value(), j["tier0_capacity"], "tier0_capacity", kMaxStorageSizeMib);
    if (!mib) return fail(std::move(mib).error());
    c.tier0_bytes = mib.value() << 20;
  }
  if (j.contains("staging_bandwidth")) {
    auto mib = size_field_mib(doc.value(), j["staging_bandwidth"], "staging_bandwidth",
                              kMaxStorageSizeMib);
    if (!mib) return fail(std::move(mib).error());
    c.staging_bytes_per_s = static_cast<double>(mib.value()) * 1024 * 1024;
  }
  const int per_leaf = j.value("nodes_per_leaf", 16), per_spine = j.value("leaves_per_spine", 4);
  std::map<std::string, const topo::NodeTopology*> loaded;
  for (std::size_t g = 0; g < j["nodes"].size(); ++g) {
    const auto& group = j["nodes"][g];
    std::string file = group["topology"].get<std::string>();
    if (file.front() != '/') file = dir + "/" + file;
    auto it = loaded.find(file);
    if (it == loaded.end()) {
      auto t = topo::load_node_topology(file);
      if (!t) {
        return fail(
            doc->error_at("nodes[" + std::to_string(g) + "].topology", t.error().to_string()));
      }
      c.topologies.push_back(std::make_unique<topo::NodeTopology>(std::move(t).value()));
      it = loaded.emplace(file, c.topologies.back().get()).first;
    }
    for (int i = 0; i < group["count"].get<int>(); ++i) {
      const int n = static_cast<int>(c.nodes.size());
      char name[32];
      std::snprintf(name, sizeof name, "node%04d", n + 1);
      const int leaf = n / per_leaf;
      c.nodes.push_back({name, it->second, "leaf" + std::to_string(leaf),
                         "spine" + std::to_string(leaf / per_spine)});
    }
  }
  return c;
}

}  // namespace sy::sim
