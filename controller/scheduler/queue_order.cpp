#include "controller/scheduler/queue_order.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace sy::sched {

std::vector<std::size_t> queue_order(const Snapshot& s) {
  // Keys are computed once and sorted in place: a usage lookup per comparison, or an indirect
  // sort through an index, would dominate a large queue.
  struct Key {
    int neg_priority;
    double account_usage;
    double user_usage;
    std::int64_t submit_ms;
    JobId id;
    std::size_t index;
    auto tie() const { return std::tie(neg_priority, account_usage, user_usage, submit_ms, id); }
  };
  std::vector<Key> keys;
  keys.reserve(s.pending.size());
  // Consecutive jobs are mostly of one account and user: look each up only when it changes.
  auto lookup = [](const std::map<std::string, double>& usage, const std::string& name,
                   const std::string*& last, double& value) {
    if (last == nullptr || *last != name) {
      auto it = usage.find(name);
      value = it == usage.end() ? 0.0 : it->second;
      last = &name;
    }
    return value;
  };
  const std::string *last_account = nullptr, *last_user = nullptr;
  double account_usage = 0, user_usage = 0;
  for (std::size_t i = 0; i < s.pending.size(); ++i) {
    const PendingJob& j = s.pending[i];
    keys.push_back({-j.priority, lookup(s.usage.by_account, j.account, last_account, account_usage),
                    lookup(s.usage.by_user, j.user, last_user, user_usage), j.submit_ms, j.id, i});
  }
  // Queues mostly arrive in order already (by id, or by arrival in the simulator): check first.
  auto before = [](const Key& a, const Key& b) { return a.tie() < b.tie(); };
  if (!std::is_sorted(keys.begin(), keys.end(), before))
    std::sort(keys.begin(), keys.end(), before);
  std::vector<std::size_t> order;
  order.reserve(keys.size());
  for (const Key& k : keys)
    order.push_back(k.index);
  return order;
}

double decayed_usage(double usage, std::int64_t elapsed_ms, std::int64_t half_life_ms) {
  if (half_life_ms <= 0) return usage;
  return usage * std::exp2(-static_cast<double>(elapsed_ms) / static_cast<double>(half_life_ms));
}

}  // namespace sy::sched
