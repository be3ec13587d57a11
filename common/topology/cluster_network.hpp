#pragma once
// ClusterNetwork: the switch tree above the nodes, as Slurm's topology.conf describes it:
// spine switches, leaf switches under them, nodes under the leaves.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/document.hpp"
#include "common/result.hpp"
#include "common/spec_error.hpp"

namespace sy::topo {

struct LeafSwitch {
  std::string name;
  std::vector<std::string> nodes;
};

struct SpineSwitch {
  std::string name;
  std::vector<LeafSwitch> leaves;
};

class ClusterNetwork {
 public:
  ClusterNetwork() = default;
  explicit ClusterNetwork(std::vector<SpineSwitch> spines);

  const std::vector<SpineSwitch>& spines() const { return spines_; }
  std::optional<std::string> leaf_of(const std::string& node) const;
  std::optional<std::string> spine_of(const std::string& node) const;

  // Switch levels between two nodes: 0 same node, 1 same leaf, 2 same spine, 3 across spines.
  // A node the tree does not name is treated as being across spines from every other node.
  int switch_distance(const std::string& a, const std::string& b) const;

 private:
  std::vector<SpineSwitch> spines_;
  std::map<std::string, std::pair<std::string, std::string>> where_;  // node -> (leaf, spine)
};

// Validates against schemas/cluster-network.schema.json; a node or switch named twice is refused.
Result<ClusterNetwork, SpecError> cluster_network_from_document(const Document& doc);

}  // namespace sy::topo
