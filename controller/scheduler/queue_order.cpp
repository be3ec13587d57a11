#include "controller/scheduler/queue_order.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace sy::sched {

std::vector<std::size_t> queue_order(const Snapshot& s) {
  std::vector<std::size_t> order(s.pending.size());
  std::iota(order.begin(), order.end(), 0);
  auto usage_of = [&](const PendingJob& j) {
    auto it = s.usage.find(j.account);
    return it == s.usage.end() ? 0.0 : it->second;
  };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const PendingJob& x = s.pending[a];
    const PendingJob& y = s.pending[b];
    return std::make_tuple(-x.priority, usage_of(x), x.submit_ms, x.id) <
           std::make_tuple(-y.priority, usage_of(y), y.submit_ms, y.id);
  });
  return order;
}

double decayed_usage(double usage, std::int64_t elapsed_ms, std::int64_t half_life_ms) {
  if (half_life_ms <= 0) return usage;
  return usage * std::exp2(-static_cast<double>(elapsed_ms) / static_cast<double>(half_life_ms));
}

}  // namespace sy::sched
