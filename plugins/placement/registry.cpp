#include "plugins/placement/best_fit_scorer.hpp"
#include "plugins/placement/data_affinity_scorer.hpp"
#include "plugins/placement/nic_numa_scorer.hpp"
#include "plugins/placement/nvlink_ring_scorer.hpp"

namespace sy::placement {

std::vector<std::unique_ptr<PlacementScorer>> make_placement_scorers() {
  std::vector<std::unique_ptr<PlacementScorer>> out;
  out.push_back(std::make_unique<NvlinkRingScorer>());
  out.push_back(std::make_unique<NicNumaScorer>());
  out.push_back(std::make_unique<BestFitScorer>());
  out.push_back(std::make_unique<DataAffinityScorer>());
  return out;
}

std::vector<int> gpus_of(std::uint64_t mask) {
  std::vector<int> out;
  for (int i = 0; i < 64; ++i) {
    if (mask & (std::uint64_t{1} << i)) out.push_back(i);
  }
  return out;
}

}  // namespace sy::placement
