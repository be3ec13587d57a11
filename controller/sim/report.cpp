#include "controller/sim/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
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

const char* class_source_name(ClassSource s) {
  switch (s) {
    case ClassSource::named:
      return "named";
    case ClassSource::drawn_unnamed:
      return "drawn-unnamed";
    case ClassSource::drawn_unmatched:
      return "drawn-unmatched";
  }
  return "named";
}

nlohmann::json coverage_json(const ModelCoverage& c) {
  // The most common unmatched names first: those are the aliases worth adding.
  std::vector<std::pair<std::string, std::size_t>> names(c.unmatched_names.begin(),
                                                         c.unmatched_names.end());
  std::stable_sort(names.begin(), names.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  nlohmann::json unmatched = nlohmann::json::array();
  for (const auto& [name, count] : names)
    unmatched.push_back({{"model", name}, {"jobs", count}});
  return {{"named", c.named},
          {"drawn_unnamed", c.drawn_unnamed},
          {"drawn_unmatched", c.drawn_unmatched},
          {"unmatched", unmatched}};
}

std::string coverage_warning(const ModelCoverage& c) {
  if (c.drawn_unmatched == 0) return "";
  std::string names;
  std::size_t shown = 0;
  const nlohmann::json unmatched = coverage_json(c)["unmatched"];
  for (const auto& entry : unmatched) {
    if (shown++ == 5) {
      names += ", ...";
      break;
    }
    names += (names.empty() ? "" : ", ") + entry["model"].get<std::string>() + ": " +
             std::to_string(entry["jobs"].get<std::size_t>());
  }
  return "warning: " + std::to_string(c.drawn_unmatched) +
         " jobs name a model no class's alias matches (" + names +
         "); each was given a class drawn by its id. Add the names to a class's 'match' in the "
         "runtime model.";
}

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
          {"stranded_gpu_share",
           capacity > 0 ? static_cast<double>(r.stranded_gpu_ms) / 1000.0 / capacity : 0},
          {"best_ring_share", multi ? static_cast<double>(multi_best) / multi : 1.0},
          {"staging_s_total", staging},
          {"cache_hit_rate", with_data ? static_cast<double>(hits) / with_data : 0.0},
          {"passes", r.passes},
          {"replans", r.replans},
          {"most_queued", r.most_queued},
          {"wall_s", r.wall_s}};
}

bool write_plots(const std::string& dir, const std::vector<SimResult>& results, int cluster_gpus) {
  std::ofstream gp(dir + "/plots.gp");
  gp << "# Draws the replay's plots: gnuplot plots.gp (in this directory)\n"
        "set terminal png size 1000,650\nset key bottom right\nset grid\n"
        "set output 'jct-cdf.png'\nset logscale x\n"
        "set title 'Job completion time, CDF'\nset xlabel 'JCT (s)'\n"
        "set ylabel 'fraction of jobs'\nplot ";
  std::int64_t last_ms = 0;
  for (std::size_t p = 0; p < results.size(); ++p) {
    const SimResult& r = results[p];
    std::vector<double> jct;
    for (const auto& j : r.jobs) {
      jct.push_back(static_cast<double>(j.end_ms - j.submit_ms) / 1000.0);
      last_ms = std::max(last_ms, j.end_ms);
    }
    std::sort(jct.begin(), jct.end());
    std::ofstream cdf(dir + "/jct-cdf-" + r.policy + ".dat");
    // 1,000 points are enough for a curve and keep the file small whatever the trace.
    const std::size_t step = std::max<std::size_t>(1, jct.size() / 1000);
    for (std::size_t i = 0; i < jct.size(); i += step) {
      cdf << std::max(jct[i], 1.0) << " " << static_cast<double>(i + 1) / jct.size() << "\n";
    }
    if (!jct.empty()) cdf << std::max(jct.back(), 1.0) << " 1\n";
    if (!cdf) return false;
    gp << (p ? ", " : "") << "'jct-cdf-" << r.policy << ".dat' using 1:2 with lines lw 2 title '"
       << r.policy << "'";
  }
  const auto days = static_cast<std::size_t>(last_ms / 86'400'000 + 1);
  std::vector<std::vector<double>> busy(results.size(), std::vector<double>(days, 0));
  for (std::size_t p = 0; p < results.size(); ++p) {
    for (const auto& j : results[p].jobs) {
      // GPU-milliseconds of the job in each day it spans.
      for (std::int64_t t = j.start_ms; t < j.end_ms;) {
        const std::int64_t day_end = (t / 86'400'000 + 1) * 86'400'000;
        const std::int64_t until = std::min(day_end, j.end_ms);
        busy[p][static_cast<std::size_t>(t / 86'400'000)] +=
            static_cast<double>(j.gpus) * static_cast<double>(until - t);
        t = until;
      }
    }
  }
  std::ofstream util(dir + "/utilization.dat");
  util << "# day";
  for (const auto& r : results)
    util << " " << r.policy;
  util << "\n";
  for (std::size_t d = 0; d < days; ++d) {
    util << d;
    for (std::size_t p = 0; p < results.size(); ++p)
      util << " " << busy[p][d] / (86'400'000.0 * cluster_gpus);
    util << "\n";
  }
  gp << "\nset output 'utilization.png'\nunset logscale x\n"
        "set title 'GPUs allocated, daily average'\nset xlabel 'day'\n"
        "set ylabel 'share of the cluster'\nplot ";
  for (std::size_t p = 0; p < results.size(); ++p) {
    gp << (p ? ", " : "") << "'utilization.dat' using 1:" << p + 2 << " with lines lw 2 title '"
       << results[p].policy << "'";
  }
  gp << "\n";
  return static_cast<bool>(util) && static_cast<bool>(gp);
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
  out << "job_id,class,class_from,gpus,nodes,submit_s,start_s,end_s,queue_s,jct_s,runtime_s,"
         "staging_s,"
         "ring_gbps,best_gbps,cache_hit\n";
  char line[512];
  for (const JobOutcome& j : r.jobs) {
    auto gbps = [](double g) { return std::isfinite(g) ? g : -1.0; };
    std::snprintf(line, sizeof line,
                  ",%s,%s,%d,%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.2f,%.2f,%s\n",
                  j.model_class.c_str(), class_source_name(j.class_source), j.gpus, j.nodes,
                  j.submit_ms / 1000.0, j.start_ms / 1000.0, j.end_ms / 1000.0,
                  (j.start_ms - j.submit_ms) / 1000.0, (j.end_ms - j.submit_ms) / 1000.0,
                  j.runtime_s, j.staging_s, gbps(j.ring_gbps), gbps(j.best_gbps),
                  j.has_dataset ? (j.cache_hit ? "yes" : "no") : "-");
    out << j.id << line;
  }
  return out.str();
}

}  // namespace sy::sim
