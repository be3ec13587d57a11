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

// Whether a node's GPUs are of the kind the job asks for (model, least memory).
bool gpus_match(const topo::NodeTopology& topology, const PendingJob& job);

class GangPlacer {
 public:
  GangPlacer(const Snapshot& snapshot, const Profile& profile)
      : snapshot_(snapshot), profile_(profile) {}

  // A placement for `job` using only GPUs in `free` (one mask per node), or nullopt. Scans
  // every node: the reference that the plan's index must agree with.
  std::optional<GangChoice> place(const PendingJob& job, const std::vector<GpuMask>& free);

  struct NodeOption {
    int node;
    GpuMask gpus;
    int score;
    GpuMask free_before;
  };
  struct Cached {
    GpuMask chosen;
    int score;
  };
  // The best `count` GPUs among `free` on a node of this topology, and their weighted score.
  const Cached& option(const topo::NodeTopology* topology, GpuMask free, int count);
  // The best option for `job`'s per-node share on `node`, if it fits and has the right GPUs.
  std::optional<NodeOption> on_node(int node, GpuMask free, const PendingJob& job);
  GangChoice finish(const std::vector<NodeOption>& chosen);

 private:
  const Snapshot& snapshot_;
  const Profile& profile_;
  // The choice and its score depend only on (topology, free GPUs, count): computed once a pass.
  std::map<std::tuple<const topo::NodeTopology*, GpuMask, int>, Cached> cache_;
};

}  // namespace sy::sched
