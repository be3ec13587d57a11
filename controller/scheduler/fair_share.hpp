#pragma once
// Fair-share usage: what each account, and each user, has used, in GPU-seconds, with older use
// counting less (halved every half-life, as Slurm's PriorityDecayHalfLife). Feeds
// Snapshot::usage: accounts are compared first, then users (within an account, the user who used
// less goes first).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sy::sched {

struct UsageRecord {
  std::string account;
  std::string user;
  int gpus = 0;
  std::int64_t start_ms = 0;
  std::optional<std::int64_t> end_ms;  // still running: counts up to now
};

struct Usage {
  std::map<std::string, double> by_account;
  std::map<std::string, double> by_user;
};

// Each record's GPU-seconds, decayed from the moment its use ended (now, if still running).
Usage fair_share_usage(const std::vector<UsageRecord>& records, std::int64_t now_ms,
                       std::int64_t half_life_ms);

}  // namespace sy::sched
