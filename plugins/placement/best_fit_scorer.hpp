#pragma once
#include "plugins/placement/placement_scorer.hpp"

namespace sy::placement {

// Prefers nodes this placement fills up, keeping whole nodes free for jobs that need them.
class BestFitScorer : public PlacementScorer {
 public:
  std::string_view name() const override { return "best-fit"; }
  int score(const ScoreInput& in) const override;
  std::string explain(const ScoreInput& in) const override;
};

}  // namespace sy::placement
