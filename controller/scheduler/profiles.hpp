#pragma once
// Named scheduling profiles: policies are configuration, not code forks.
//   switchyard     topology-aware placement (scorers weighted), EASY backfill
//   slurm-like     first fit on node and GPU indices, EASY backfill
//   fifo-firstfit  first fit, strict queue order (the head of the queue blocks the rest)

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "controller/scheduler/plan.hpp"

namespace sy::sched {

// `scorers` must outlive the profile. `weights` names scorers (absent: best-fit and nvlink-ring
// 4, the others 1).
Result<Profile, std::string> make_profile(
    const std::string& name,
    const std::vector<std::unique_ptr<placement::PlacementScorer>>& scorers,
    const std::map<std::string, int>& weights = {});

}  // namespace sy::sched
