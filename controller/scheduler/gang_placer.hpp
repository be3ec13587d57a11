#pragma once
// GangPlacer: where a job's whole gang can go given which GPUs are free. Inside a node it takes
// the GPU subset with the best ring; across nodes it looks for one leaf switch that can hold the
// gang, then one spine, then anywhere, using as few leaves as it can. Pure and deterministic;
// caches the best subset per (node topology, free GPUs, count) for the length of a pass.

#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "controller/scheduler/plan.hpp"

namespace sy::sched {

struct GangChoice {
  std::vector<NodePlacement> placements;
  double ring_gbps = 0;
  std::vector<std::pair<std::string, int>> scores;
};

class GangPlacer {
 public:
  GangPlacer(const Snapshot& snapshot, const Profile& profile)
      : snapshot_(snapshot), profile_(profile) {}

  // A placement for `job` using only GPUs in `free` (one mask per node), or nullopt.
  std::optional<GangChoice> place(const PendingJob& job, const std::vector<GpuMask>& free);

 private:
  struct NodeOption {
    int node;
    GpuMask gpus;
    int score;
    GpuMask free_before;
  };
  std::optional<NodeOption> on_node(int node, GpuMask free, int count);
  GangChoice finish(const std::vector<NodeOption>& chosen);

  const Snapshot& snapshot_;
  const Profile& profile_;
  std::map<std::tuple<const topo::NodeTopology*, GpuMask, int>, GpuMask> subset_cache_;
};

}  // namespace sy::sched
