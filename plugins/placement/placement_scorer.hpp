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

// What the job's datasets would cost on this node: bytes it needs and bytes the node lacks.
struct DataNeed {
  std::int64_t total_bytes = 0;
  std::int64_t missing_bytes = 0;
  double staging_bytes_per_s = 1e9;
  std::int64_t horizon_ms = 600 * 1000;  // staging this long or longer scores nothing

  std::int64_t staging_ms() const {
    return staging_bytes_per_s > 0 ? static_cast<std::int64_t>(static_cast<double>(missing_bytes) *
                                                               1000.0 / staging_bytes_per_s)
                                   : 0;
  }
};

struct ScoreInput {
  const topo::NodeTopology& topology;
  std::uint64_t free_before = 0;  // the node's free GPUs before this placement
  std::uint64_t chosen = 0;       // the GPUs this placement takes
  DataNeed data{};                // only per-job scorers read it
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
  // True when the score depends on the job (its data), not only on the node's GPUs: the
  // scheduler then cannot cache it per (topology, free GPUs) and computes it per job and node.
  virtual bool per_job() const { return false; }
};

// The built-in scorers, each once: nvlink-ring, nic-numa, best-fit, data-affinity.
std::vector<std::unique_ptr<PlacementScorer>> make_placement_scorers();

// GPU indices of a mask, ascending.
std::vector<int> gpus_of(std::uint64_t mask);

}  // namespace sy::placement
