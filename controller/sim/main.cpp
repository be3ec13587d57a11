// sy-sim: replays a job trace on a simulated cluster under one or more scheduling policies, with
// the controller's own scheduler, and writes what each policy achieved.
#include <cmath>
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
#include "controller/sim/synthetic_trace.hpp"
#include "plugins/placement/placement_scorer.hpp"

namespace {

constexpr const char* kUsage =
    R"(usage: sy-sim (--trace FILE.csv | --synthetic [GENERATOR OPTIONS]) --cluster CLUSTER.yaml
              [--policy NAME ...] [--model MODEL.yaml] [--out DIR] [--limit-factor X]
              [--tier0 SIZE] [--backfill-depth N]

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

--synthetic replays a generated trace instead, written to DIR/trace.csv (docs/architecture.md):
  --jobs N            jobs (default 5000)
  --load X            offered GPU demand over the submit span / the cluster's GPUs (default 1.0;
                      above 1 the queue grows while jobs arrive)
  --multi-gpu-share X share of jobs with more than one GPU, 0-1 (default 0.15)
  --sizes MIX         their sizes, GPUS:WEIGHT,... (default 2:25,4:30,8:30,16:10,32:5)
  --duration-median S run time at the best placement: log-normal, median S seconds
                      (default 1800), clipped to 60 s - 7 days
  --duration-sigma X  its log-scale spread (default 1.5)
  --users N           users, each its own account (default 8)
  --datasets N        datasets of 1-200 GB, one per job (default 20; 0: none)
  --seed N            the generator's seed (default 1)
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
  bool synthetic = false;
  sim::SyntheticSpec spec;
  const auto number = [](const std::string& text, double& out) {
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return !text.empty() && *end == '\0';
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--synthetic") {
      synthetic = true;
      continue;
    }
    if (i + 1 >= argc) return usage_error(arg + " needs a value");
    const std::string value = argv[++i];
    double x = 0;
    if (arg == "--jobs" || arg == "--users" || arg == "--datasets" || arg == "--seed") {
      if (!number(value, x) || x != std::floor(x) || x < 0 || x > 1e15)
        return usage_error(arg + ": '" + value + "' is not a whole number");
      if (arg == "--seed") {
        spec.seed = static_cast<std::uint64_t>(x);
      } else {
        (arg == "--jobs"    ? spec.jobs
         : arg == "--users" ? spec.users
                            : spec.datasets) = static_cast<int>(std::min(x, 1e9));
      }
    } else if (arg == "--load" || arg == "--multi-gpu-share" || arg == "--duration-median" ||
               arg == "--duration-sigma") {
      if (!number(value, x)) return usage_error(arg + ": '" + value + "' is not a number");
      (arg == "--load"              ? spec.load
       : arg == "--multi-gpu-share" ? spec.multi_gpu_share
       : arg == "--duration-median" ? spec.duration_median_s
                                    : spec.duration_sigma) = x;
    } else if (arg == "--sizes") {
      auto mix = sim::parse_size_mix(value);
      if (!mix) return usage_error("--sizes: " + mix.error());
      spec.sizes = std::move(mix).value();
    } else if (arg == "--trace") {
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
  if (cluster_file.empty()) return usage_error("--cluster is required");
  if (synthetic == !trace_file.empty())
    return usage_error("give either --trace FILE or --synthetic, not both or neither");
  if (synthetic) {
    if (auto ok = sim::validate(spec); !ok) return usage_error("--synthetic: " + ok.error());
  }
  if (policies.empty()) policies = sim::kPolicies;
  if (out_dir.find('\'') != std::string::npos) return usage_error("--out must not contain a quote");

  auto cluster = sim::load_sim_cluster(cluster_file);
  if (!cluster) return std::cerr << "sy-sim: " << cluster.error().to_string() << "\n", 2;
  if (tier0_mib > 0) cluster->tier0_bytes = tier0_mib * 1024 * 1024;
  auto model = sim::RuntimeModel::load(model_file);
  if (!model) return std::cerr << "sy-sim: " << model.error().to_string() << "\n", 2;
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec)
    return std::cerr << "sy-sim: cannot create " << out_dir << ": " << ec.message() << "\n", 1;
  Result<std::vector<sim::TraceJob>, std::string> trace = fail(std::string());
  if (synthetic) {
    std::vector<std::string> names;
    for (const auto& c : model->classes())
      names.push_back(c.name);
    trace = sim::synthetic_trace(spec, cluster->total_gpus(), names);
    trace_file = out_dir + "/trace.csv";
    std::ofstream(trace_file) << sim::trace_csv(trace.value());
  } else {
    trace = sim::load_trace(trace_file);
    if (!trace) return std::cerr << "sy-sim: " << trace.error() << "\n", 2;
  }
  const auto scorers = placement::make_placement_scorers();
  std::vector<sched::Profile> profiles;
  for (const auto& name : policies) {
    auto p = sim::sim_profile(name, scorers, cluster.value());
    if (!p) return usage_error(p.error());
    p->backfill_depth = backfill_depth;
    profiles.push_back(std::move(p).value());
  }
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
  nlohmann::json written{{"trace", trace_file},
                         {"cluster", cluster_file},
                         {"gpus", cluster->total_gpus()},
                         {"nodes", cluster->nodes.size()},
                         {"models", sim::coverage_json(coverage)},
                         {"policies", summary}};
  if (synthetic) {
    nlohmann::json sizes = nlohmann::json::object();
    for (const auto& [gpus, weight] : spec.sizes)
      sizes[std::to_string(gpus)] = weight;
    written["synthetic"] = {{"jobs", spec.jobs},
                            {"load", spec.load},
                            {"multi_gpu_share", spec.multi_gpu_share},
                            {"sizes", sizes},
                            {"duration_median_s", spec.duration_median_s},
                            {"duration_sigma", spec.duration_sigma},
                            {"users", spec.users},
                            {"datasets", spec.datasets},
                            {"seed", spec.seed}};
  }
  std::ofstream(out_dir + "/summary.json") << written.dump(2) << "\n";
  return 0;
}
