// The simulator hands each pass a window of the queue's head, not the whole queue. It must
// decide exactly what the whole queue decides: every job starts at the same moment on the same
// GPUs. The window here is kept small and the backfill depth shallow so that an overloaded
// queue outgrows the window many times over and passes have to grow it.
#include <catch2/catch.hpp>

#include "controller/scheduler/option_memo.hpp"
#include "controller/sim/policies.hpp"
#include "controller/sim/report.hpp"
#include "controller/sim/simulator.hpp"
#include "controller/sim/synthetic_trace.hpp"
#include "tests/support/sim_example.hpp"

using namespace sy;
using namespace sy::sim;

using Example = test::SimExample;

TEST_CASE("a pass over a window of the queue decides what a pass over the whole queue does",
          "[sim][window]") {
  const Example example;
  const SimCluster& cluster = example.cluster;
  const RuntimeModel& model = example.model;
  SyntheticSpec spec;
  spec.jobs = 1500;
  spec.load = 1.5;
  spec.multi_gpu_share = 0.2;
  spec.duration_median_s = 900;
  auto trace = synthetic_trace(spec, cluster.total_gpus(), example.class_names());
  // A burst at the start: the first pass, on an empty cluster, must look far beyond the first
  // window (it starts over a hundred jobs), so windows are outgrown and passes run again.
  for (std::size_t i = 0; i < 300; ++i)
    trace[i].submit_s = 0;

  static const auto scorers = placement::make_placement_scorers();
  for (const char* policy : {"switchyard", "slurm-like", "fifo-firstfit"}) {
    INFO(policy);
    auto profile = sim_profile(policy, scorers, cluster);
    REQUIRE(profile.ok());
    profile->backfill_depth = 20;
    const Simulator whole(cluster, model, {.incremental = false});
    const Simulator windowed(cluster, model, {.incremental = true, .window = 8});
    const SimResult a = whole.run(trace, profile.value(), policy);
    const SimResult b = windowed.run(trace, profile.value(), policy);
    // The windows were too small for the queue, and some passes had to look further.
    CHECK(a.most_queued > 200);
    CHECK(b.most_queued == a.most_queued);
    CHECK(a.replans == 0);
    CHECK(b.replans > 0);
    CHECK(b.window < b.most_queued);
    CHECK(b.passes == a.passes);
    CHECK(jobs_csv(b) == jobs_csv(a));
  }
}

TEST_CASE("a memo handed passes of different profiles gives each profile its own answers",
          "[sim][window]") {
  const Example example;
  const SimCluster& cluster = example.cluster;
  const RuntimeModel& model = example.model;
  const Simulator simulator(cluster, model);
  std::vector<TraceJob> trace;
  const int sizes[] = {1, 2, 3, 4, 8, 16, 1, 5, 2, 7, 1, 6};
  for (int i = 0; i < 12; ++i)
    trace.push_back({"j" + std::to_string(i), 0, sizes[i], 600, "u", "", "", 0});
  sched::Snapshot snapshot = simulator.empty_snapshot(trace);
  for (std::size_t i = 0; i < trace.size(); ++i)
    snapshot.pending.push_back(simulator.pending_job(trace[i], i, 0));

  static const auto scorers = placement::make_placement_scorers();
  sched::OptionMemo memo;
  for (const char* policy : {"switchyard", "switchyard-no-topology", "slurm-like", "switchyard"}) {
    INFO(policy);
    auto profile = sim_profile(policy, scorers, cluster);
    REQUIRE(profile.ok());
    const sched::Plan fresh = sched::plan(snapshot, profile.value());
    CHECK(sched::plan(snapshot, profile.value(), &memo) == fresh);
    CHECK(fresh.starts.size() == trace.size());
  }
}
