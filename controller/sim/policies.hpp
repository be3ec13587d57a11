#pragma once
// The policies sy-sim compares, as scheduler profiles: the controller's own profiles plus
// ablations of switchyard.
//   fifo-firstfit        strict queue order, lowest free GPU indices, no data awareness
//   slurm-like           priority + backfill + switch tree, GPUs by index, no data awareness
//   switchyard           everything on
//   switchyard-no-data   switchyard without the data-affinity scorer
//   switchyard-no-topology  switchyard choosing GPUs by index and ignoring switches, still with
//                        best fit, data affinity, backfill

#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "controller/scheduler/plan.hpp"
#include "controller/sim/sim_cluster.hpp"

namespace sy::sim {

inline const std::vector<std::string> kPolicies = {"fifo-firstfit", "slurm-like", "switchyard",
                                                   "switchyard-no-data", "switchyard-no-topology"};

Result<sched::Profile, std::string> sim_profile(
    const std::string& name,
    const std::vector<std::unique_ptr<placement::PlacementScorer>>& scorers,
    const SimCluster& cluster);

}  // namespace sy::sim
