#pragma once
// Fair-share usage: what each account has used, in GPU-seconds, with older use counting less
// (halved every half-life, as Slurm's PriorityDecayHalfLife). Feeds Snapshot::usage.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sy::sched {

struct UsageRecord {
  std::string account;
  int gpus = 0;
  std::int64_t start_ms = 0;
  std::optional<std::int64_t> end_ms;  // still running: counts up to now
};

// Each record's GPU-seconds, decayed from the moment its use ended (now, if still running).
std::map<std::string, double> fair_share_usage(const std::vector<UsageRecord>& records,
                                               std::int64_t now_ms, std::int64_t half_life_ms);

}  // namespace sy::sched
