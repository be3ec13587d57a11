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

LedgerEntry add_usage(LedgerEntry entry, double gpu_seconds, std::int64_t ended_ms,
                      std::int64_t half_life_ms) {
  if (gpu_seconds <= 0) return entry;
  if (ended_ms >= entry.as_of_ms) {
    entry.gpu_seconds =
        decayed_usage(entry.gpu_seconds, ended_ms - entry.as_of_ms, half_life_ms) + gpu_seconds;
    entry.as_of_ms = ended_ms;
  } else {  // a run that ended before the last one folded in (commits are not in end order)
    entry.gpu_seconds += decayed_usage(gpu_seconds, entry.as_of_ms - ended_ms, half_life_ms);
  }
  return entry;
}

double decayed_to(const LedgerEntry& entry, std::int64_t now_ms, std::int64_t half_life_ms) {
  return decayed_usage(entry.gpu_seconds, std::max<std::int64_t>(now_ms - entry.as_of_ms, 0),
                       half_life_ms);
}

Usage fair_share_usage(const Ledger& ended, const std::vector<UsageRecord>& running,
                       std::int64_t now_ms, std::int64_t half_life_ms) {
  Usage usage = fair_share_usage(running, now_ms, half_life_ms);
  for (const auto& [account, entry] : ended.by_account)
    usage.by_account[account] += decayed_to(entry, now_ms, half_life_ms);
  for (const auto& [user, entry] : ended.by_user)
    usage.by_user[user] += decayed_to(entry, now_ms, half_life_ms);
  return usage;
}

}  // namespace sy::sched
