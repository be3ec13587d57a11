#pragma once
// The order in which pending jobs are considered: higher priority first, then the account that
// has used less (decayed GPU-seconds: fair share), then the older submit, then the lower id.

#include <vector>

#include "controller/scheduler/snapshot.hpp"

namespace sy::sched {

// Indices into snapshot.pending, in queue order. Independent of the input order.
std::vector<std::size_t> queue_order(const Snapshot& snapshot);

// Usage decays by half every `half_life_ms`: what the account used long ago counts less.
double decayed_usage(double usage, std::int64_t elapsed_ms, std::int64_t half_life_ms);

}  // namespace sy::sched
