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

inline constexpr std::int64_t kDefaultHalfLifeMs = 7LL * 24 * 3600 * 1000;

// Each record's GPU-seconds, decayed from the moment its use ended (now, if still running).
Usage fair_share_usage(const std::vector<UsageRecord>& records, std::int64_t now_ms,
                       std::int64_t half_life_ms);

// Ended use kept incrementally, one entry per account and per user: its decayed GPU-seconds as
// of `as_of_ms`. Adding a run folds it in; reading decays the whole entry at once. So a pass
// costs the accounts, not the history of every job that ever ran.
struct LedgerEntry {
  double gpu_seconds = 0;
  std::int64_t as_of_ms = 0;
  bool operator==(const LedgerEntry&) const = default;
};
LedgerEntry add_usage(LedgerEntry entry, double gpu_seconds, std::int64_t ended_ms,
                      std::int64_t half_life_ms);
double decayed_to(const LedgerEntry& entry, std::int64_t now_ms, std::int64_t half_life_ms);

struct Ledger {
  std::map<std::string, LedgerEntry> by_account;
  std::map<std::string, LedgerEntry> by_user;
};
// The ledger's ended use decayed to now, plus what running jobs have used so far.
Usage fair_share_usage(const Ledger& ended, const std::vector<UsageRecord>& running,
                       std::int64_t now_ms, std::int64_t half_life_ms);

}  // namespace sy::sched
