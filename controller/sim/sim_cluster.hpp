#pragma once
// The simulated cluster (sy-sim --cluster FILE, schemas/sim-cluster.schema.json): groups of nodes
// of a fixture topology, put under leaf switches in order, leaves under spines in order.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/spec_error.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::sim {

struct SimNode {
  std::string name;
  const topo::NodeTopology* topology = nullptr;  // owned by the SimCluster
  std::string leaf;
  std::string spine;
};

struct SimCluster {
  std::vector<std::unique_ptr<topo::NodeTopology>> topologies;  // one per distinct file
  std::vector<SimNode> nodes;
  std::int64_t tier0_bytes = 2LL << 40;
  double staging_bytes_per_s = 1024.0 * 1024 * 1024;

  int total_gpus() const;
  int max_gpus_per_node() const;
};

Result<SimCluster, SpecError> load_sim_cluster(const std::string& path);

}  // namespace sy::sim
