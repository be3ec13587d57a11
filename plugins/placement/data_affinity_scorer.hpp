#pragma once
#include "plugins/placement/placement_scorer.hpp"

namespace sy::placement {

// Prefers nodes whose Tier-0 cache already holds the job's datasets, by how long staging the
// rest would take: a few missing megabytes barely count, an hour of copying counts fully.
class DataAffinityScorer : public PlacementScorer {
 public:
  std::string_view name() const override { return "data-affinity"; }
  int score(const ScoreInput& in) const override;
  std::string explain(const ScoreInput& in) const override;
  bool per_job() const override { return true; }
};

}  // namespace sy::placement
