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
#include "controller/sim/command_line.hpp"
#include "controller/sim/policies.hpp"
#include "controller/sim/report.hpp"
#include "controller/sim/simulator.hpp"
#include "controller/sim/synthetic_trace.hpp"
#include "plugins/placement/placement_scorer.hpp"

namespace {

int usage_error(const std::string& m) {
  std::cerr << "sy-sim: " << m << "\n(see sy-sim --help)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sy;
  sim::SimCommandLine cl;
  if (const auto stop = command_line::parse(cl.app, argc, argv)) return *stop;
  std::string trace_file = cl.trace_file;
  const std::string &cluster_file = cl.cluster_file, &model_file = cl.model_file,
                    &out_dir = cl.out_dir;
  std::vector<std::string> policies = cl.policies;
  const sim::SimOptions options = cl.options;
  const int backfill_depth = cl.backfill_depth;
  const std::int64_t tier0_mib = cl.tier0_mib;
  const bool synthetic = cl.synthetic;
  const sim::SyntheticSpec& spec = cl.spec;
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
