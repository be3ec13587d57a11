#pragma once
#include "plugins/placement/placement_scorer.hpp"

namespace sy::placement {

// Prefers GPU sets on one NUMA node and close to a NIC (for the traffic that leaves the node).
class NicNumaScorer : public PlacementScorer {
 public:
  std::string_view name() const override { return "nic-numa"; }
  int score(const ScoreInput& in) const override;
  std::string explain(const ScoreInput& in) const override;
};

}  // namespace sy::placement
