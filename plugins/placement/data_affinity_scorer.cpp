// data-affinity: full marks when nothing is left to stage, none when staging the missing bytes
// takes the horizon or longer, in proportion between. A job without datasets scores full marks
// everywhere, so the scorer never moves it.
#include "plugins/placement/data_affinity_scorer.hpp"

#include <algorithm>

#include "common/units.hpp"

namespace sy::placement {

int DataAffinityScorer::score(const ScoreInput& in) const {
  if (in.data.missing_bytes <= 0 || in.data.total_bytes <= 0) return kMaxScore;
  if (in.data.horizon_ms <= 0) return 0;
  const std::int64_t ms = std::min(in.data.staging_ms(), in.data.horizon_ms);
  return static_cast<int>(kMaxScore - kMaxScore * ms / in.data.horizon_ms);
}

std::string DataAffinityScorer::explain(const ScoreInput& in) const {
  if (in.data.total_bytes <= 0) return "no datasets";
  if (in.data.missing_bytes <= 0) return "datasets already on the node";
  const auto held = in.data.total_bytes - in.data.missing_bytes;
  return std::to_string(held * 100 / in.data.total_bytes) + "% of its data on the node, ~" +
         format_duration((in.data.staging_ms() + 999) / 1000) + " to stage the rest";
}

}  // namespace sy::placement
