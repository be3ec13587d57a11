#include "controller/scheduler/queue_order.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace sy::sched {

std::vector<std::size_t> queue_order(const Snapshot& s) {
  // Keys are computed once: a usage lookup per comparison would dominate a large queue.
  using Key = std::tuple<int, double, std::int64_t, JobId>;
  std::vector<Key> keys;
  keys.reserve(s.pending.size());
  for (const PendingJob& j : s.pending) {
    auto it = s.usage.find(j.account);
    keys.emplace_back(-j.priority, it == s.usage.end() ? 0.0 : it->second, j.submit_ms, j.id);
  }
  std::vector<std::size_t> order(s.pending.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  return order;
}

double decayed_usage(double usage, std::int64_t elapsed_ms, std::int64_t half_life_ms) {
  if (half_life_ms <= 0) return usage;
  return usage * std::exp2(-static_cast<double>(elapsed_ms) / static_cast<double>(half_life_ms));
}

}  // namespace sy::sched
