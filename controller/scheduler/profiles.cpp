#include "controller/scheduler/profiles.hpp"

namespace sy::sched {
namespace {

// Packing and ring quality first; data and NIC closeness break their ties rather than override
// them. At weight 1 each, a 1-GPU job went to a node holding its data (up to 100 points) over
// one it would fill (12.5 points per GPU on an 8-GPU node), which under overload cost the queue
// more than the staging it saved (docs/benchmarks.md, "Overload grid").
int default_weight(std::string_view scorer) {
  return scorer == "best-fit" || scorer == "nvlink-ring" ? 4 : 1;
}

}  // namespace

Result<Profile, std::string> make_profile(
    const std::string& name,
    const std::vector<std::unique_ptr<placement::PlacementScorer>>& scorers,
    const std::map<std::string, int>& weights) {
  Profile p;
  p.name = name;
  if (name == "switchyard") {
    for (const auto& s : scorers) {
      auto it = weights.find(std::string(s->name()));
      const int weight = it == weights.end() ? default_weight(s->name()) : it->second;
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
