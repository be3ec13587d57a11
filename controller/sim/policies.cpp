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
  } else if (name == "switchyard-no-topology") {
    base = "switchyard";
    weights["nvlink-ring"] = 0;
    weights["nic-numa"] = 0;
  }
  auto profile = sched::make_profile(base, scorers, weights);
  if (!profile) {
    return fail("unknown policy '" + name +
                "' (fifo-firstfit, slurm-like, switchyard, switchyard-no-data or "
                "switchyard-no-topology)");
  }
  profile->name = name;
  profile->interconnect_aware = name != "switchyard-no-topology";
  profile->staging_bytes_per_s = cluster.staging_bytes_per_s;
  return std::move(profile).value();
}

}  // namespace sy::sim
