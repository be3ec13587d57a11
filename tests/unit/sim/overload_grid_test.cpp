// The switchyard profile is never worse than slurm-like on mean job completion time, on traces
// it was not tuned on: generated ones across loads 0.5-1.5 and multi-GPU shares 5-30%. One
// generated trace is one draw, and under overload a single draw's ratio swings by +-30% with the
// seed alone (both policies face a chaotic queue), so each cell of the grid sums the mean JCTs
// of several seeds, as bench/sim/grid does at larger sizes (docs/benchmarks.md, "Overload
// grid"). The margin comes mostly from rings: with placement blind to the interconnect
// (switchyard-no-topology) four of the nine cells fail.
#include <catch2/catch.hpp>

#include "controller/sim/policies.hpp"
#include "controller/sim/report.hpp"
#include "controller/sim/simulator.hpp"
#include "controller/sim/synthetic_trace.hpp"
#include "tests/support/sim_example.hpp"

using namespace sy;
using namespace sy::sim;

TEST_CASE("switchyard is never worse than slurm-like on mean JCT across generated traces",
          "[sim][grid]") {
  const test::SimExample example;
  const auto classes = example.class_names();
  static const auto scorers = placement::make_placement_scorers();
  auto switchyard = sim_profile("switchyard", scorers, example.cluster);
  auto slurm_like = sim_profile("slurm-like", scorers, example.cluster);
  REQUIRE(switchyard.ok());
  REQUIRE(slurm_like.ok());
  const Simulator simulator(example.cluster, example.model);
  const int gpus = example.cluster.total_gpus();
  auto mean_jct_s = [&](const SimResult& r) {
    return summarize(r, gpus)["jct_s"]["mean"].get<double>();
  };
  constexpr int kSeeds = 16;
  for (double load : {0.5, 1.0, 1.5}) {
    for (double share : {0.05, 0.15, 0.30}) {
      double ours = 0, theirs = 0;
      for (int seed = 1; seed <= kSeeds; ++seed) {
        SyntheticSpec spec;
        spec.jobs = 1000;
        spec.load = load;
        spec.multi_gpu_share = share;
        spec.duration_sigma = 1.0;
        spec.seed = static_cast<std::uint64_t>(seed);
        const auto trace = synthetic_trace(spec, gpus, classes);
        ours += mean_jct_s(simulator.run(trace, switchyard.value(), "switchyard"));
        theirs += mean_jct_s(simulator.run(trace, slurm_like.value(), "slurm-like"));
      }
      INFO("load " << load << ", multi-GPU share " << share << ": switchyard / slurm-like mean JCT "
                   << ours / theirs);
      CHECK(ours <= theirs);
    }
  }
}
