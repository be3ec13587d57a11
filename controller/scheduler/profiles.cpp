#include "controller/scheduler/profiles.hpp"

namespace sy::sched {

Result<Profile, std::string> make_profile(
    const std::string& name,
    const std::vector<std::unique_ptr<placement::PlacementScorer>>& scorers,
    const std::map<std::string, int>& weights) {
  Profile p;
  p.name = name;
  if (name == "switchyard") {
    for (const auto& s : scorers) {
      auto it = weights.find(std::string(s->name()));
      const int weight = it == weights.end() ? 1 : it->second;
      if (weight > 0) p.scorers.emplace_back(s.get(), weight);
    }
    for (const auto& [scorer, weight] : weights) {
      bool known = false;
      for (const auto& s : scorers)
        known = known || s->name() == scorer;
      if (!known) return fail("unknown placement scorer '" + scorer + "'");
    }
    return p;
  }
  if (name == "slurm-like" || name == "fifo-firstfit") {
    p.topology_aware = false;
    p.backfill = name == "slurm-like";
    return p;
  }
  return fail("unknown scheduling profile '" + name +
              "' (switchyard, slurm-like or fifo-firstfit)");
}

}  // namespace sy::sched
