#pragma once
// PlacementScorer: one view of how good it is to put a job's GPUs on one node. Scorers are pure
// and return integers 0..kMaxScore (higher is better); the profile weights them. Each lives in
// its own file and is registered explicitly (register_placement_scorers).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/topology/node_topology.hpp"

namespace sy::placement {

inline constexpr int kMaxScore = 100;

struct ScoreInput {
  const topo::NodeTopology& topology;
  std::uint64_t free_before = 0;  // the node's free GPUs before this placement
  std::uint64_t chosen = 0;       // the GPUs this placement takes
};

class PlacementScorer {
 public:
  virtual ~PlacementScorer() = default;
  // The scorer's id in configuration, metrics and `sy show` ("nvlink-ring", ...).
  virtual std::string_view name() const = 0;
  // 0..kMaxScore, higher is better. Pure.
  virtual int score(const ScoreInput& in) const = 0;
  // One phrase on why, e.g. "ring NV2 (50 GB/s)".
  virtual std::string explain(const ScoreInput& in) const = 0;
};

// The built-in scorers, each once: nvlink-ring, nic-numa, best-fit.
std::vector<std::unique_ptr<PlacementScorer>> make_placement_scorers();

// GPU indices of a mask, ascending.
std::vector<int> gpus_of(std::uint64_t mask);

}  // namespace sy::placement
