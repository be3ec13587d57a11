// best-fit: the fewer free GPUs a node has left after the placement, the better.
#include "plugins/placement/best_fit_scorer.hpp"

#include <bit>

namespace sy::placement {

int BestFitScorer::score(const ScoreInput& in) const {
  const int total = in.topology.gpu_count();
  if (total == 0) return 0;
  const int left = std::popcount(in.free_before & ~in.chosen);
  return kMaxScore * (total - left) / total;
}

std::string BestFitScorer::explain(const ScoreInput& in) const {
  return std::to_string(std::popcount(in.free_before & ~in.chosen)) + " GPUs left free";
}

}  // namespace sy::placement
