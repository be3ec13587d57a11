#pragma once
#include "plugins/placement/placement_scorer.hpp"

namespace sy::placement {

// Prefers GPU sets whose ring runs over NVLink rather than PCIe or the socket interconnect.
class NvlinkRingScorer : public PlacementScorer {
 public:
  std::string_view name() const override { return "nvlink-ring"; }
  int score(const ScoreInput& in) const override;
  std::string explain(const ScoreInput& in) const override;
};

}  // namespace sy::placement
