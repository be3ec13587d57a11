#include "controller/sim/synthetic_trace.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>

#include "common/comma_list.hpp"
#include "common/parse_number.hpp"

namespace sy::sim {
namespace {

// Uniform in (0, 1) from the generator's bits: the same numbers on every standard library.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : bits_(seed) {}
  double uniform() {
    return (static_cast<double>(bits_() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }
  double exponential(double mean) { return -mean * std::log(uniform()); }
  double normal() {
    // Box-Muller; one of the pair is enough here.
    return std::sqrt(-2.0 * std::log(uniform())) * std::cos(2.0 * std::numbers::pi * uniform());
  }
  std::size_t index(std::size_t n) {
    return std::min(n - 1, static_cast<std::size_t>(uniform() * static_cast<double>(n)));
  }

 private:
  std::mt19937_64 bits_;
};

}  // namespace

Result<std::vector<std::pair<int, double>>, std::string> parse_size_mix(const std::string& text) {
  std::vector<std::pair<int, double>> mix;
  for (const auto& item : split_commas(text)) {
    const auto colon = item.find(':');
    int gpus = 0;
    double weight = 0;
    if (colon == std::string::npos ||
        !parse_whole_number(std::string_view(item).substr(0, colon), gpus) ||
        !parse_whole_number(std::string_view(item).substr(colon + 1), weight)) {
      return fail("'" + item + "' is not GPUS:WEIGHT (e.g. 8:30)");
    }
    if (gpus < 2 || gpus > 4096) return fail("'" + item + "': a multi-GPU size is 2-4096 GPUs");
    if (!(weight > 0)) return fail("'" + item + "': the weight must be above 0");
    mix.emplace_back(gpus, weight);
  }
  if (mix.empty()) return fail("no sizes given (e.g. 2:25,4:30,8:30)");
  return mix;
}

Result<void, std::string> validate(const SyntheticSpec& s) {
  if (s.jobs < 1 || s.jobs > 10'000'000) return fail("jobs must be 1-10000000");
  if (!(s.load >= 0.01 && s.load <= 10)) return fail("load must be between 0.01 and 10");
  if (!(s.multi_gpu_share >= 0 && s.multi_gpu_share <= 1))
    return fail("the multi-GPU share must be between 0 and 1");
  if (s.multi_gpu_share > 0 && s.sizes.empty()) return fail("multi-GPU jobs need sizes");
  if (!(s.duration_median_s >= 60 && s.duration_median_s <= 7 * 86400.0))
    return fail("the median duration must be 60 s to 7 days");
  if (!(s.duration_sigma >= 0 && s.duration_sigma <= 4))
    return fail("the duration sigma must be between 0 and 4");
  if (s.users < 1 || s.users > 100000) return fail("users must be 1-100000");
  if (s.datasets < 0 || s.datasets > 100000) return fail("datasets must be 0-100000");
  return {};
}

std::vector<TraceJob> synthetic_trace(const SyntheticSpec& spec, int cluster_gpus,
                                      const std::vector<std::string>& models) {
  Draw draw(spec.seed);
  double total_weight = 0;
  for (const auto& [gpus, weight] : spec.sizes)
    total_weight += weight;
  // Dataset sizes first, so that changing the job count keeps them.
  std::vector<double> dataset_gb(static_cast<std::size_t>(spec.datasets));
  for (auto& gb : dataset_gb)
    gb = std::round(std::pow(200.0, draw.uniform()) * 10) / 10;  // log-uniform 1-200 GB

  std::vector<TraceJob> jobs(static_cast<std::size_t>(spec.jobs));
  double gpu_seconds = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    TraceJob& j = jobs[i];
    char id[32];
    std::snprintf(id, sizeof id, "syn-%07zu", i);
    j.id = id;
    j.gpus = 1;
    if (draw.uniform() < spec.multi_gpu_share) {
      double pick = draw.uniform() * total_weight;
      for (const auto& [gpus, weight] : spec.sizes) {
        j.gpus = gpus;
        if ((pick -= weight) < 0) break;
      }
    }
    const double d = spec.duration_median_s * std::exp(spec.duration_sigma * draw.normal());
    j.duration_s = static_cast<std::int64_t>(std::clamp(std::round(d), 60.0, 7 * 86400.0));
    j.user = "user-" + std::to_string(draw.index(static_cast<std::size_t>(spec.users)));
    if (!models.empty()) j.model = models[draw.index(models.size())];
    if (!dataset_gb.empty()) {
      const std::size_t k = draw.index(dataset_gb.size());
      j.dataset = "ds-" + std::to_string(k);
      j.dataset_gb = dataset_gb[k];
    }
    gpu_seconds += static_cast<double>(j.gpus) * static_cast<double>(j.duration_s);
  }
  // The submit span that makes the offered load spec.load, arrivals Poisson over it.
  const double span_s = gpu_seconds / (spec.load * std::max(1, cluster_gpus));
  const double mean_gap = span_s / static_cast<double>(jobs.size());
  double t = 0;
  for (auto& j : jobs) {
    j.submit_s = static_cast<std::int64_t>(t);
    t += draw.exponential(mean_gap);
  }
  return jobs;
}

}  // namespace sy::sim
