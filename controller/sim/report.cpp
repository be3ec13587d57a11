#include "controller/sim/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace sy::sim {
namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p of the values at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

nlohmann::json stats(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v)
    sum += x;
  return {{"mean", v.empty() ? 0 : sum / static_cast<double>(v.size())},
          {"median", percentile(v, 0.5)},
          {"p95", percentile(v, 0.95)},
          {"p99", percentile(v, 0.99)}};
}

}  // namespace

nlohmann::json summarize(const SimResult& r, int cluster_gpus) {
  std::vector<double> jct, queue;
  std::int64_t first = 0, last = 0;
  double allocated = 0, effective = 0, staging = 0;
  int multi = 0, multi_best = 0, with_data = 0, hits = 0;
  for (std::size_t i = 0; i < r.jobs.size(); ++i) {
    const JobOutcome& j = r.jobs[i];
    jct.push_back(static_cast<double>(j.end_ms - j.submit_ms) / 1000.0);
    queue.push_back(static_cast<double>(j.start_ms - j.submit_ms) / 1000.0);
    first = i == 0 ? j.submit_ms : std::min(first, j.submit_ms);
    last = std::max(last, j.end_ms);
    allocated += j.gpus * static_cast<double>(j.end_ms - j.start_ms) / 1000.0;
    effective += j.gpus * j.duration_s;
    staging += j.staging_s;
    if (j.gpus > 1) {
      ++multi;
      if (j.ring_gbps >= j.best_gbps) ++multi_best;
    }
    if (j.has_dataset) {
      ++with_data;
      if (j.cache_hit) ++hits;
    }
  }
  const double makespan = static_cast<double>(last - first) / 1000.0;
  const double capacity = makespan * cluster_gpus;
  return {{"policy", r.policy},
          {"jobs", r.jobs.size()},
          {"jct_s", stats(jct)},
          {"queue_s", stats(queue)},
          {"makespan_s", makespan},
          {"utilization_allocated", capacity > 0 ? allocated / capacity : 0},
          {"utilization_effective", capacity > 0 ? effective / capacity : 0},
          {"best_ring_share", multi ? static_cast<double>(multi_best) / multi : 1.0},
          {"staging_s_total", staging},
          {"cache_hit_rate", with_data ? static_cast<double>(hits) / with_data : 0.0},
          {"passes", r.passes},
          {"wall_s", r.wall_s}};
}

std::string markdown_table(const nlohmann::json& summaries) {
  std::ostringstream out;
  out << "| policy | mean JCT | vs " << summaries.at(0)["policy"].get<std::string>()
      << " | median JCT | p95 JCT | p99 JCT | mean queue | p99 queue | makespan | util. "
         "allocated | util. effective | best ring | staging total | cache hits | replay |\n"
      << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  const double base = summaries.at(0)["jct_s"]["mean"].get<double>();
  char row[512];
  for (const auto& s : summaries) {
    const double mean = s["jct_s"]["mean"].get<double>();
    std::snprintf(row, sizeof row,
                  "| %s | %.0f s | %.2f | %.0f s | %.0f s | %.0f s | %.0f s | %.0f s | %.1f d | "
                  "%.1f%% | %.1f%% | %.1f%% | %.0f s | %.1f%% | %.1f s |\n",
                  s["policy"].get<std::string>().c_str(), mean, base > 0 ? mean / base : 0.0,
                  s["jct_s"]["median"].get<double>(), s["jct_s"]["p95"].get<double>(),
                  s["jct_s"]["p99"].get<double>(), s["queue_s"]["mean"].get<double>(),
                  s["queue_s"]["p99"].get<double>(), s["makespan_s"].get<double>() / 86400,
                  100 * s["utilization_allocated"].get<double>(),
                  100 * s["utilization_effective"].get<double>(),
                  100 * s["best_ring_share"].get<double>(), s["staging_s_total"].get<double>(),
                  100 * s["cache_hit_rate"].get<double>(), s["wall_s"].get<double>());
    out << row;
  }
  return out.str();
}

std::string jobs_csv(const SimResult& r) {
  std::ostringstream out;
  out << "job_id,class,gpus,nodes,submit_s,start_s,end_s,queue_s,jct_s,runtime_s,staging_s,"
         "ring_gbps,best_gbps,cache_hit\n";
  char line[512];
  for (const JobOutcome& j : r.jobs) {
    auto gbps = [](double g) { return std::isfinite(g) ? g : -1.0; };
    std::snprintf(line, sizeof line, ",%s,%d,%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.2f,%.2f,%s\n",
                  j.model_class.c_str(), j.gpus, j.nodes, j.submit_ms / 1000.0, j.start_ms / 1000.0,
                  j.end_ms / 1000.0, (j.start_ms - j.submit_ms) / 1000.0,
                  (j.end_ms - j.submit_ms) / 1000.0, j.runtime_s, j.staging_s, gbps(j.ring_gbps),
                  gbps(j.best_gbps), j.has_dataset ? (j.cache_hit ? "yes" : "no") : "-");
    out << j.id << line;
  }
  return out.str();
}

}  // namespace sy::sim
