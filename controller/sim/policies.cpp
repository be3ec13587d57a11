#include "controller/sim/policies.hpp"

#include "controller/scheduler/profiles.hpp"

namespace sy::sim {

Result<sched::Profile, std::string> sim_profile(
    const std::string& name,
    const std::vector<std::unique_ptr<placement::PlacementScorer>>& scorers,
    const SimCluster& cluster) {
  std::map<std::string, int> weights;
  std::string base = name;
  if (name == "switchyard-no-data") {
    base = "switchyard";
    weights["data-affinity"] = 0;
  }
  auto profile = sched::make_profile(base, scorers, weights);
  if (!profile) {
    return fail("unknown policy '" + name +
                "' (fifo-firstfit, slurm-like, switchyard or switchyard-no-data)");
  }
  profile->name = name;
  profile->staging_bytes_per_s = cluster.staging_bytes_per_s;
  return std::move(profile).value();
}

}  // namespace sy::sim
