#include "common/topology/cluster_network.hpp"

#include <set>

#include "common/schema_validator.hpp"

namespace sy::topo {

ClusterNetwork::ClusterNetwork(std::vector<SpineSwitch> spines) : spines_(std::move(spines)) {
  for (const auto& spine : spines_) {
    for (const auto& leaf : spine.leaves) {
      for (const auto& node : leaf.nodes)
        where_[node] = {leaf.name, spine.name};
    }
  }
}

std::optional<std::string> ClusterNetwork::leaf_of(const std::string& node) const {
  auto it = where_.find(node);
  return it == where_.end() ? std::nullopt : std::optional<std::string>(it->second.first);
}

std::optional<std::string> ClusterNetwork::spine_of(const std::string& node) const {
  auto it = where_.find(node);
  return it == where_.end() ? std::nullopt : std::optional<std::string>(it->second.second);
}

int ClusterNetwork::switch_distance(const std::string& a, const std::string& b) const {
  if (a == b) return 0;
  auto wa = where_.find(a), wb = where_.find(b);
  if (wa == where_.end() || wb == where_.end()) return 3;
  if (wa->second.first == wb->second.first) return 1;
  if (wa->second.second == wb->second.second) return 2;
  return 3;
}

Result<ClusterNetwork, SpecError> cluster_network_from_document(const Document& doc) {
  static const auto schema = SchemaValidator::builtin("cluster-network.schema.json");
  if (auto valid = schema->validate(doc); !valid) return fail(std::move(valid).error());
  std::set<std::string> switches, nodes;
  std::vector<SpineSwitch> spines;
  const auto& j = doc.root()["spines"];
  for (std::size_t s = 0; s < j.size(); ++s) {
    SpineSwitch spine{j[s]["name"].get<std::string>(), {}};
    const std::string spine_path = "spines[" + std::to_string(s) + "]";
    if (!switches.insert(spine.name).second) {
      return fail(doc.error_at(spine_path + ".name", "switch '" + spine.name + "' is named twice"));
    }
    const auto& leaves = j[s]["leaves"];
    for (std::size_t l = 0; l < leaves.size(); ++l) {
      LeafSwitch leaf{leaves[l]["name"].get<std::string>(),
                      leaves[l]["nodes"].get<std::vector<std::string>>()};
      const std::string leaf_path = spine_path + ".leaves[" + std::to_string(l) + "]";
      if (!switches.insert(leaf.name).second) {
        return fail(doc.error_at(leaf_path + ".name", "switch '" + leaf.name + "' is named twice"));
      }
      for (std::size_t n = 0; n < leaf.nodes.size(); ++n) {
        if (!nodes.insert(leaf.nodes[n]).second) {
          return fail(doc.error_at(leaf_path + ".nodes[" + std::to_string(n) + "]",
                                   "node '" + leaf.nodes[n] + "' is under two leaf switches"));
        }
      }
      spine.leaves.push_back(std::move(leaf));
    }
    spines.push_back(std::move(spine));
  }
  return ClusterNetwork(std::move(spines));
}

}  // namespace sy::topo
