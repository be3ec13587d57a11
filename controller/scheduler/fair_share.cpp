#include "controller/scheduler/fair_share.hpp"

#include <algorithm>

#include "controller/scheduler/queue_order.hpp"

namespace sy::sched {

Usage fair_share_usage(const std::vector<UsageRecord>& records, std::int64_t now_ms,
                       std::int64_t half_life_ms) {
  Usage usage;
  for (const auto& r : records) {
    const std::int64_t end = std::min(r.end_ms.value_or(now_ms), now_ms);
    if (end <= r.start_ms) continue;
    const double gpu_seconds = r.gpus * static_cast<double>(end - r.start_ms) / 1000.0;
    const double decayed = decayed_usage(gpu_seconds, now_ms - end, half_life_ms);
    usage.by_account[r.account] += decayed;
    usage.by_user[r.user] += decayed;
  }
  return usage;
}

}  // namespace sy::sched
