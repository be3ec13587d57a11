// nvlink-ring: the chosen GPUs' ring bottleneck, against the fastest link the node has.
#include "plugins/placement/nvlink_ring_scorer.hpp"

#include <algorithm>
#include <cmath>

namespace sy::placement {

namespace {
double fastest_link(const topo::NodeTopology& t) {
  double best = 0;
  for (int a = 0; a < t.gpu_count(); ++a) {
    for (int b = a + 1; b < t.gpu_count(); ++b)
      best = std::max(best, t.link(a, b).bandwidth_gbps());
  }
  return best;
}
}  // namespace

int NvlinkRingScorer::score(const ScoreInput& in) const {
  const auto gpus = gpus_of(in.chosen);
  if (gpus.size() <= 1) return kMaxScore;
  const double ring = topo::ring_bottleneck_gbps(in.topology, gpus);
  const double best = fastest_link(in.topology);
  return best <= 0 ? 0 : static_cast<int>(std::lround(kMaxScore * std::min(1.0, ring / best)));
}

std::string NvlinkRingScorer::explain(const ScoreInput& in) const {
  const auto gpus = gpus_of(in.chosen);
  if (gpus.size() <= 1) return "one GPU, no ring";
  const double ring = topo::ring_bottleneck_gbps(in.topology, gpus);
  return "ring bottleneck " + std::to_string(static_cast<int>(ring)) + " GB/s";
}

}  // namespace sy::placement
