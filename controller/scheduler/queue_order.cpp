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
    double usage;
    std::int64_t submit_ms;
    JobId id;
    std::size_t index;
    auto tie() const { return std::tie(neg_priority, usage, submit_ms, id); }
  };
  std::vector<Key> keys;
  keys.reserve(s.pending.size());
  const std::string* last_account = nullptr;
  double last_usage = 0;
  for (std::size_t i = 0; i < s.pending.size(); ++i) {
    const PendingJob& j = s.pending[i];
    if (last_account == nullptr || *last_account != j.account) {
      auto it = s.usage.find(j.account);
      last_usage = it == s.usage.end() ? 0.0 : it->second;
      last_account = &j.account;
    }
    keys.push_back({-j.priority, last_usage, j.submit_ms, j.id, i});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.tie() < b.tie(); });
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
