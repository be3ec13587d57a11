// One test drives both: the simulator's view of a queue and the live controller's (job rows in its
// store, nodes as its registry lists them, through the controller's own snapshot builder) go
// through the same plan() and must come out the same.
#include <catch2/catch.hpp>

#include "controller/runtime/snapshot_builder.hpp"
#include "controller/sim/policies.hpp"
#include "controller/sim/simulator.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/migrations.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;

TEST_CASE("the simulator and the live controller make the same decisions for the same queue",
          "[sim][controller]") {
  test::TempDir dir;
  const std::string topologies = test::source_dir() + "/examples/topologies/";
  auto cluster = sim::load_sim_cluster(dir.write(
      "cluster.yaml", "nodes:\n  - {count: 3, topology: " + topologies +
                          "dgx1-v100.yaml}\n  - {count: 3, topology: " + topologies +
                          "pcie-8gpu-2socket.yaml}\nnodes_per_leaf: 2\nleaves_per_spine: 2\n"));
  REQUIRE(cluster.ok());
  auto model = sim::RuntimeModel::load(test::source_dir() + "/examples/sim/runtime-model.yaml");
  REQUIRE(model.ok());
  const sim::Simulator simulator(cluster.value(), model.value());
  // Sizes that exercise NVLink quads, whole nodes, gangs under one leaf, and a wait.
  const int sizes[] = {4, 1, 8, 2, 16, 4, 1, 24, 2, 8, 1, 4, 32};
  std::vector<sim::TraceJob> trace;
  for (int i = 0; i < 13; ++i) {
    trace.push_back({"j" + std::to_string(i), 0, sizes[i], 600 + 60 * i,
                     "vc" + std::to_string(i % 3), "", "", 0});
  }

  // The simulator's snapshot.
  sched::Snapshot from_sim = simulator.empty_snapshot(trace);
  for (std::size_t i = 0; i < trace.size(); ++i)
    from_sim.pending.push_back(simulator.pending_job(trace[i], i, 0));

  // The controller's: the same jobs submitted to its store, the same nodes registered.
  auto db = store::Db::open(dir.file("s.db"), store::Db::Mode::read_write);
  REQUIRE(db.ok());
  REQUIRE(store::migrate(db.value()).ok());
  auto jobs = store::JobStore::open(db.value());
  REQUIRE(jobs.ok());
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const auto& p = from_sim.pending[i];
    auto spec =
        job_spec_from_yaml("command: [train]\nresources: {nodes: " + std::to_string(p.nodes) +
                               ", gpus_per_node: " + std::to_string(p.gpus_per_node) +
                               "}\ntime_limit: " + std::to_string(p.time_limit_ms / 1000) +
                               "s\naccount: " + trace[i].user + "\n",
                           "job.yaml");
    REQUIRE(spec.ok());
    REQUIRE(jobs->insert({spec.value(), "u", std::nullopt, 0, 0}).ok());
  }
  auto waiting = jobs->waiting();
  REQUIRE(waiting.ok());
  std::vector<nodes::NodeView> views;
  for (const auto& n : cluster->nodes) {
    nodes::NodeView v;
    v.name = n.name;
    v.topology = std::make_shared<const topo::NodeTopology>(*n.topology);
    v.shape = v.topology;
    v.leaf = n.leaf;
    v.spine = n.spine;
    views.push_back(std::move(v));
  }
  const runtime::PassInput live = runtime::build_pass_input(views, waiting.value(), {}, 0);

  static const auto scorers = placement::make_placement_scorers();
  for (const char* policy : {"switchyard", "slurm-like", "fifo-firstfit"}) {
    INFO(policy);
    auto profile = sim::sim_profile(policy, scorers, cluster.value());
    REQUIRE(profile.ok());
    const sched::Plan a = sched::plan(from_sim, profile.value());
    const sched::Plan b = sched::plan(live.snapshot, profile.value());
    REQUIRE(a.starts.size() == b.starts.size());
    CHECK(a.starts.size() >= 6);
    const sched::JobId first = waiting->front().id;  // the store's ids start here, the sim's at 1
    for (std::size_t i = 0; i < a.starts.size(); ++i) {
      CHECK(a.starts[i].job - 1 == b.starts[i].job - first);
      REQUIRE(a.starts[i].placements.size() == b.starts[i].placements.size());
      for (std::size_t k = 0; k < a.starts[i].placements.size(); ++k) {
        CHECK(from_sim.nodes[a.starts[i].placements[k].node].name ==
              live.snapshot.nodes[b.starts[i].placements[k].node].name);
        CHECK(a.starts[i].placements[k].gpus == b.starts[i].placements[k].gpus);
      }
    }
    REQUIRE(a.reservation.has_value() == b.reservation.has_value());
    if (a.reservation) {
      CHECK(a.reservation->job - 1 == b.reservation->job - first);
      CHECK(a.reservation->start_ms == b.reservation->start_ms);
    }
    REQUIRE(a.waits.size() == b.waits.size());
    for (std::size_t i = 0; i < a.waits.size(); ++i)
      CHECK(a.waits[i].why == b.waits[i].why);
  }
}
