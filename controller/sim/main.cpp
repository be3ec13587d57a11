// sy-sim: replays a job trace on a simulated cluster under one or more scheduling policies, with
// the controller's own scheduler, and writes what each policy achieved.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "common/units.hpp"
#include "controller/sim/policies.hpp"
#include "controller/sim/report.hpp"
#include "controller/sim/simulator.hpp"
#include "plugins/placement/placement_scorer.hpp"

namespace {

constexpr const char* kUsage =
    R"(usage: sy-sim --trace FILE.csv --cluster CLUSTER.yaml [--policy NAME ...]
              [--model MODEL.yaml] [--out DIR] [--limit-factor X] [--tier0 SIZE]

Replays the trace (../shared/traces/README.md format) on the cluster, once per policy, with the
scheduler the controller runs, and writes DIR/summary.json and DIR/jobs-POLICY.csv.

  --policy NAME       fifo-firstfit, slurm-like, switchyard, switchyard-no-data,
                      switchyard-no-topology (repeatable; default: all of them)
  --model FILE        runtime model (default examples/sim/runtime-model.yaml)
  --out DIR           where to write (default sim-out)
  --limit-factor X    users' time limits are X times the ideal run time (default 2)
  --tier0 SIZE        every node's dataset cache, e.g. 200G (default: the cluster file's)
  --backfill-depth N  jobs backfill looks at after the reservation (default 1000, as the
                      controller's scheduler.backfill_depth)
)";

int usage_error(const std::string& m) {
  std::cerr << "sy-sim: " << m << "\n(see sy-sim --help)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sy;
  std::string trace_file, cluster_file, model_file = "examples/sim/runtime-model.yaml",
                                        out_dir = "sim-out";
  std::vector<std::string> policies;
  sim::SimOptions options;
  int backfill_depth = 1000;
  std::int64_t tier0_mib = 0;  // 0: the cluster file's
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc) return usage_error(arg + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--trace") {
      trace_file = value;
    } else if (arg == "--cluster") {
      cluster_file = value;
    } else if (arg == "--model") {
      model_file = value;
    } else if (arg == "--out") {
      out_dir = value;
    } else if (arg == "--policy") {
      policies.push_back(value);
    } else if (arg == "--backfill-depth") {
      char* end = nullptr;
      const long depth = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || depth < 0 || depth > 10000000) {
        return usage_error("--backfill-depth must be a whole number 0-10000000");
      }
      backfill_depth = static_cast<int>(depth);
    } else if (arg == "--tier0") {
      auto mib = parse_size_mib(value, kMaxStorageSizeMib);
      if (!mib) return usage_error("--tier0: " + mib.error());
      tier0_mib = mib.value();
    } else if (arg == "--limit-factor") {
      char* end = nullptr;
      options.limit_factor = std::strtod(value.c_str(), &end);
      if (*end != '\0' || options.limit_factor < 1) {
        return usage_error("--limit-factor must be a number >= 1");
      }
    } else {
      return usage_error("unknown argument '" + arg + "'");
    }
  }
  if (trace_file.empty() || cluster_file.empty())
    return usage_error("--trace and --cluster are required");
  if (policies.empty()) policies = sim::kPolicies;
  if (out_dir.find('\'') != std::string::npos) return usage_error("--out must not contain a quote");

  auto trace = sim::load_trace(trace_file);
  if (!trace) return std::cerr << "sy-sim: " << trace.error() << "\n", 2;
  auto cluster = sim::load_sim_cluster(cluster_file);
  if (!cluster) return std::cerr << "sy-sim: " << cluster.error().to_string() << "\n", 2;
  if (tier0_mib > 0) cluster->tier0_bytes = tier0_mib * 1024 * 1024;
  auto model = sim::RuntimeModel::load(model_file);
  if (!model) return std::cerr << "sy-sim: " << model.error().to_string() << "\n", 2;
  const auto scorers = placement::make_placement_scorers();
  std::vector<sched::Profile> profiles;
  for (const auto& name : policies) {
    auto p = sim::sim_profile(name, scorers, cluster.value());
    if (!p) return usage_error(p.error());
    p->backfill_depth = backfill_depth;
    profiles.push_back(std::move(p).value());
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec)
    return std::cerr << "sy-sim: cannot create " << out_dir << ": " << ec.message() << "\n", 1;

  const sim::ModelCoverage coverage = model->coverage(trace.value());
  if (const std::string w = sim::coverage_warning(coverage); !w.empty()) {
    std::cerr << "sy-sim: " << w << "\n";
  }
  const sim::Simulator simulator(cluster.value(), model.value(), options);
  nlohmann::json summary = nlohmann::json::array();
  std::vector<sim::SimResult> results;
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    results.push_back(simulator.run(trace.value(), profiles[i], policies[i]));
    summary.push_back(sim::summarize(results.back(), cluster->total_gpus()));
    std::ofstream(out_dir + "/jobs-" + policies[i] + ".csv") << sim::jobs_csv(results.back());
  }
  if (!sim::write_plots(out_dir, results, cluster->total_gpus())) {
    std::cerr << "sy-sim: cannot write the plot data in " << out_dir << "\n";
    return 1;
  }
  // Plots are drawn by gnuplot when it is installed (scripts/install-deps --bench adds it).
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
    const std::string draw = "cd '" + out_dir + "' && gnuplot plots.gp";
    if (std::system(draw.c_str()) != 0) std::cerr << "sy-sim: gnuplot failed on plots.gp\n";
  } else {
    std::cerr << "sy-sim: gnuplot is not installed; " << out_dir << "/plots.gp draws the plots\n";
  }
  std::cout << sim::markdown_table(summary);
  std::ofstream(out_dir + "/summary.json")
      << nlohmann::json{{"trace", trace_file},
                        {"cluster", cluster_file},
                        {"gpus", cluster->total_gpus()},
                        {"nodes", cluster->nodes.size()},
                        {"models", sim::coverage_json(coverage)},
                        {"policies", summary}}
             .dump(2)
      << "\n";
  return 0;
}
