#pragma once
// TopologyShapes: one shared copy of each distinct node shape. Ten thousand DGX nodes differ
// only in their name and their GPUs' UUIDs, which placement never reads; interned, they share
// one NodeTopology, so the scheduler's caches (keyed by topology address) are hit across nodes
// and a pass copies pointers, not topologies. Not thread-safe: its owner locks.

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/topology/node_topology.hpp"

namespace sy::topo {

// The topology without what tells one node of a shape from another (name, GPU UUIDs).
NodeTopology shape_of(const NodeTopology& node);

class TopologyShapes {
 public:
  // The shared shape of `node`: the same pointer for every node of the same shape while any of
  // them holds it.
  std::shared_ptr<const NodeTopology> intern(const NodeTopology& node);
  std::size_t size() const;  // distinct shapes held

 private:
  std::unordered_map<std::string, std::weak_ptr<const NodeTopology>> shapes_;
  std::size_t inserts_since_sweep_ = 0;
};

}  // namespace sy::topo
