// sy-bench-sched: the scheduling pass at cluster scale.
// Builds a cluster of N nodes (fixtures cycled: DGX-1 V100, DGX H100, 8-GPU PCIe; 8 GPUs each)
// under L leaves and S spines, and a queue of J jobs whose GPU counts are read in order from a
// trace (the `gpus` column of ../shared/traces/*.csv, cycled), then reports:
//   full        a pass over the whole queue on the empty cluster (it fills the cluster)
//   incremental a pass after one running job ends (the queue that remained); the median of
//               --repeat passes (default 5)
//   rss         resident memory of this process at the end (VmHWM, the peak)
//
//   sy-bench-sched --topologies examples/topologies --trace ../shared/traces/philly.csv
//       [--nodes 10000 --leaves 40 --spines 4 --jobs 100000 --repeat 5]
//       [--data-trace ../shared/traces/gavel_philly_vcs.csv]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/command_line/command_line.hpp"
#include "common/topology/topology_file.hpp"
#include "controller/scheduler/plan.hpp"
#include "controller/scheduler/profiles.hpp"
#include "controller/sim/simulator.hpp"
#include "controller/sim/trace.hpp"

namespace {

long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string topologies = "examples/topologies", trace, data_trace;
  int nodes = 10000, leaves = 40, spines = 4, jobs = 100000, repeat = 5;
  CLI::App app{"", "sy-bench-sched"};
  sy::command_line::set_up_program(
      app,
      "times the scheduler's pass on a generated cluster and queue drawn from a trace's job\n"
      "sizes (docs/benchmarks.md).");
  app.add_option("--topologies", topologies, "the fixture topologies' directory")->type_name("DIR");
  app.add_option("--trace", trace, "the trace whose GPU counts the queue draws from")
      ->required()
      ->type_name("FILE.csv");
  app.add_option("--data-trace", data_trace, "a trace with datasets, for the data-aware passes")
      ->type_name("FILE.csv");
  app.add_option("--nodes", nodes, "nodes (default 10000)")->check(CLI::PositiveNumber);
  app.add_option("--leaves", leaves, "leaf switches (default 40)")->check(CLI::PositiveNumber);
  app.add_option("--spines", spines, "spine switches (default 4)")->check(CLI::PositiveNumber);
  app.add_option("--jobs", jobs, "queued jobs (default 100000)")->check(CLI::PositiveNumber);
  app.add_option("--repeat", repeat, "passes timed per case (default 5)")
      ->check(CLI::PositiveNumber);
  if (const auto stop = sy::command_line::parse(app, argc, argv)) return *stop;
  // Only the GPU counts are kept: the memory figure is the scheduler's, not the trace's.
  std::vector<int> sizes;
  {
    auto rows = sy::sim::load_trace(trace);
    if (!rows) return std::cerr << rows.error() << "\n", 2;
    for (const auto& row : *rows)
      sizes.push_back(row.gpus);
  }
  if (sizes.empty()) return std::cerr << "no jobs in '" << trace << "'\n", 2;
  std::vector<sy::topo::NodeTopology> fixtures;
  for (const char* name : {"dgx1-v100", "dgx-h100", "pcie-8gpu-2socket"}) {
    auto t = sy::topo::load_node_topology(topologies + "/" + name + ".yaml");
    if (!t) return std::cerr << t.error().to_string() << "\n", 2;
    fixtures.push_back(std::move(t).value());
  }

  sy::sched::Snapshot s;
  for (int n = 0; n < nodes; ++n) {
    const int leaf = n * leaves / nodes;
    sy::sched::NodeInput node;
    node.name = "node" + std::to_string(n);
    node.topology = &fixtures[n % fixtures.size()];
    node.leaf = "leaf" + std::to_string(leaf);
    node.spine = "spine" + std::to_string(leaf * spines / leaves);
    node.free = 0xff;
    s.nodes.push_back(std::move(node));
  }
  for (int j = 0; j < jobs; ++j) {
    const int gpus = sizes[j % sizes.size()];
    sy::sched::PendingJob job;
    job.id = j + 1;
    job.account = "vc" + std::to_string(j % 15);
    job.submit_ms = j;
    sy::sim::gang_shape(gpus, 8, job.nodes, job.gpus_per_node);
    job.time_limit_ms = (1 + j % 48) * 3600 * 1000LL;
    s.pending.push_back(job);
  }
  // With --data-trace, every job reads the dataset of a row of that trace (cycled), and each
  // node's cache holds one dataset (by node index): data affinity has real choices to make.
  if (!data_trace.empty()) {
    auto data = sy::sim::load_trace(data_trace);
    if (!data) return std::cerr << data.error() << "\n", 2;
    std::vector<std::string> names;
    for (const auto& row : *data) {
      if (row.dataset.empty() || s.dataset_bytes.contains(row.dataset)) continue;
      s.dataset_bytes[row.dataset] = static_cast<std::int64_t>(row.dataset_gb * 1e9);
      names.push_back(row.dataset);
    }
    if (names.empty()) return std::cerr << "no datasets in '" << data_trace << "'\n", 2;
    for (int j = 0; j < jobs; ++j) {
      const auto& name = (*data)[j % data->size()].dataset;
      if (!name.empty()) s.pending[j].datasets = {name};
    }
    for (int n = 0; n < nodes; ++n) {
      const auto& name = names[n % names.size()];
      s.nodes[n].cached[name] = s.dataset_bytes[name];
    }
  }
  const auto scorers = sy::placement::make_placement_scorers();
  const auto profile = sy::sched::make_profile("switchyard", scorers).value();

  const auto t0 = std::chrono::steady_clock::now();
  const auto full = sy::sched::plan(s, profile);
  const auto t1 = std::chrono::steady_clock::now();

  // Apply the full pass, end one running job, and plan again over what still waits.
  std::map<sy::sched::JobId, const sy::sched::PendingJob*> by_id;
  for (const auto& j : s.pending)
    by_id[j.id] = &j;
  sy::sched::Snapshot next = s;
  next.pending.clear();
  for (const auto& st : full.starts) {
    for (const auto& p : st.placements) {
      next.nodes[p.node].free &= ~p.gpus;
      next.running.push_back({st.job, p.node, p.gpus, by_id[st.job]->time_limit_ms,
                              st.cpus_per_node, st.memory_per_node_mib});
    }
  }
  for (const auto& w : full.waits)
    next.pending.push_back(*by_id[w.job]);
  if (!next.running.empty()) {
    const auto ended = next.running.front();
    next.nodes[ended.node].free |= ended.gpus;
    next.running.erase(next.running.begin());
  }
  // The incremental pass is short enough for the machine's noise to matter: take the median.
  std::vector<double> times;
  sy::sched::Plan incremental;
  for (int r = 0; r < std::max(1, repeat); ++r) {
    const auto t2 = std::chrono::steady_clock::now();
    incremental = sy::sched::plan(next, profile);
    const auto t3 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
  }
  const double first = times.front();
  std::sort(times.begin(), times.end());

  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  std::cout << "RESULT nodes=" << nodes << " gpus=" << nodes * 8 << " jobs=" << jobs
            << " full_ms=" << ms(t0, t1) << " started=" << full.starts.size()
            << " incremental_ms=" << times[times.size() / 2] << " incremental_first_ms=" << first
            << " incremental_queue=" << next.pending.size()
            << " incremental_started=" << incremental.starts.size()
            << " peak_rss_mib=" << peak_rss_kib() / 1024 << "\n";
  return 0;
}
