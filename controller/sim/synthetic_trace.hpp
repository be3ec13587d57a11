#pragma once
// Synthetic job traces for the simulator: a load level, a share of multi-GPU jobs and their size
// mix, a run-time distribution, users and datasets, all from one seed. Used to test a policy on
// traces it was not tuned on (overload, many gangs) where no real trace of that shape exists.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "controller/sim/trace.hpp"

namespace sy::sim {

struct SyntheticSpec {
  int jobs = 5000;
  // Offered GPU-seconds over the submit span divided by the cluster's GPU-seconds in that span:
  // above 1 the queue can only grow while jobs arrive.
  double load = 1.0;
  double multi_gpu_share = 0.15;  // jobs asking for more than one GPU
  // GPUs of a multi-GPU job and their relative weights.
  std::vector<std::pair<int, double>> sizes{{2, 25}, {4, 30}, {8, 30}, {16, 10}, {32, 5}};
  // Run time at the best placement: log-normal with this median, clipped to [60 s, 7 days].
  double duration_median_s = 1800;
  double duration_sigma = 1.5;
  int users = 8;
  int datasets = 20;  // each 1-200 GB; every job reads one
  std::uint64_t seed = 1;
};

// "2:25,4:30,8:30" -> {{2, 25}, {4, 30}, {8, 30}}.
Result<std::vector<std::pair<int, double>>, std::string> parse_size_mix(const std::string& text);

// Checks ranges; the message names the parameter ("load must be between 0.01 and 10").
Result<void, std::string> validate(const SyntheticSpec& spec);

// Jobs in submit order with Poisson arrivals, sized so that the offered load on `cluster_gpus`
// is spec.load; models drawn from `models` (the runtime model's class names). Deterministic in
// the seed on every platform (no std:: distributions, whose output is the library's choice).
std::vector<TraceJob> synthetic_trace(const SyntheticSpec& spec, int cluster_gpus,
                                      const std::vector<std::string>& models);

}  // namespace sy::sim
