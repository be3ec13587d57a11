#pragma once
// What a replay measured, per policy: completion time and queueing delay (mean, median, p95,
// p99), makespan, GPU utilization (allocated, and effective: the work that would have taken at
// the best placement), the share of multi-GPU jobs whose ring ran at the best bandwidth possible
// for their size, staging on the critical path and cache hits.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/sim/simulator.hpp"

namespace sy::sim {

nlohmann::json summarize(const SimResult& result, int cluster_gpus);
const char* class_source_name(ClassSource source);
// How many jobs got their class by name and how many by a draw (and why), for summary.json; the
// unmatched names most common first.
nlohmann::json coverage_json(const ModelCoverage& coverage);
// One line for stderr when some named models matched no alias; empty when all did.
std::string coverage_warning(const ModelCoverage& coverage);
// One row per job: id, class, gpus, nodes, submit/start/end (s), queue and jct (s), runtime,
// staging, ring and best ring (GB/s), cache hit.
std::string jobs_csv(const SimResult& result);
// Plot data and a gnuplot script in `dir`: jct-cdf-POLICY.dat (JCT by fraction of jobs),
// utilization.dat (allocated GPUs per day, a column per policy) and plots.gp, which draws
// jct-cdf.png and utilization.png. Returns false when a file cannot be written.
bool write_plots(const std::string& dir, const std::vector<SimResult>& results, int cluster_gpus);

// The summaries side by side, with each policy's mean JCT as a ratio to the first policy's.
std::string markdown_table(const nlohmann::json& summaries);

}  // namespace sy::sim
