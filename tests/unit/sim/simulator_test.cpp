#include <catch2/catch.hpp>

#include "controller/sim/policies.hpp"
#include "controller/sim/report.hpp"
#include "controller/sim/simulator.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::sim;

namespace {

const char* kModel = R"(network_gbps: {same_leaf: 12.5, same_spine: 6.25, cross_spine: 3.125}
calibration: {spread_gbps: 1.25}
classes:
  - {name: lm, match: [LM], comm_share: 0.5, unknown_weight: 1}
)";

SimCluster two_h100_nodes(test::TempDir& dir) {
  const std::string yaml = "nodes:\n  - {count: 2, topology: " + test::source_dir() +
                           "/examples/topologies/dgx-h100.yaml}\ntier0_capacity: 100G\n"
                           "staging_bandwidth: 1G\n";
  auto c = load_sim_cluster(dir.write("cluster.yaml", yaml));
  REQUIRE(c.ok());
  return std::move(c).value();
}

SimResult replay(const SimCluster& cluster, const std::string& csv, const std::string& policy) {
  static const auto scorers = placement::make_placement_scorers();
  auto model = RuntimeModel::parse(kModel, "model.yaml");
  REQUIRE(model.ok());
  auto trace = parse_trace(csv, "t.csv");
  REQUIRE(trace.ok());
  auto profile = sim_profile(policy, scorers, cluster);
  REQUIRE(profile.ok());
  const Simulator sim(cluster, model.value());
  return sim.run(trace.value(), profile.value(), policy);
}

}  // namespace

TEST_CASE("a tiny trace gives exactly the schedule worked out by hand", "[sim]") {
  test::TempDir dir;
  const SimCluster cluster = two_h100_nodes(dir);
  // a and b fill the two nodes; c needs both, so it waits until a ends at 100 s.
  const std::string csv =
      "job_id,submit_s,gpus,duration_s,user,model,dataset,dataset_gb\n"
      "a,0,8,100,vc1,,,\n"
      "b,0,8,50,vc1,,,\n"
      "c,10,16,20,vc2,LM,,\n";
  for (const char* policy : {"switchyard", "slurm-like", "fifo-firstfit"}) {
    INFO(policy);
    const SimResult r = replay(cluster, csv, policy);
    REQUIRE(r.jobs.size() == 3);
    CHECK(r.jobs[0].start_ms == 0);
    CHECK(r.jobs[0].end_ms == 100'000);
    CHECK(r.jobs[1].end_ms == 50'000);
    CHECK(r.jobs[2].start_ms == 100'000);
    CHECK(r.jobs[2].nodes == 2);
    CHECK(r.jobs[2].runtime_s == 20);  // under one leaf, as good as 16 GPUs can get
    CHECK(r.jobs[2].end_ms == 120'000);
    const auto s = summarize(r, cluster.total_gpus());
    CHECK(s["jct_s"]["mean"].get<double>() == Approx((100 + 50 + 110) / 3.0));
    CHECK(s["jct_s"]["median"].get<double>() == 100);
    CHECK(s["queue_s"]["p99"].get<double>() == 90);
    CHECK(s["makespan_s"].get<double>() == 120);
    // 16 GPUs x 120 s available; a 800, b 400, c 320 GPU-seconds used.
    CHECK(s["utilization_allocated"].get<double>() == Approx(1520.0 / 1920));
  }
}

TEST_CASE("staging delays the first job on a node, not the ones that find the data there",
          "[sim][data]") {
  test::TempDir dir;
  const SimCluster cluster = two_h100_nodes(dir);
  const std::string csv =
      "job_id,submit_s,gpus,duration_s,user,model,dataset,dataset_gb\n"
      "first,0,8,100,vc1,,imagenet,10.737418240\n"
      "again,200,8,100,vc1,,imagenet,10.737418240\n";
  const SimResult r = replay(cluster, csv, "switchyard");
  CHECK(r.jobs[0].staging_s == Approx(10.0));  // 10 GiB at 1 GiB/s
  CHECK_FALSE(r.jobs[0].cache_hit);
  CHECK(r.jobs[0].end_ms == 110'000);
  // Data affinity sends the second job to the node that holds the data: no staging.
  CHECK(r.jobs[1].cache_hit);
  CHECK(r.jobs[1].staging_s == 0);
  CHECK(summarize(r, cluster.total_gpus())["cache_hit_rate"].get<double>() == 0.5);
}

TEST_CASE("the simulator is deterministic", "[sim]") {
  test::TempDir dir;
  const SimCluster cluster = two_h100_nodes(dir);
  std::string csv = "job_id,submit_s,gpus,duration_s,user,model,dataset,dataset_gb\n";
  for (int i = 0; i < 200; ++i) {
    csv += "j" + std::to_string(i) + "," + std::to_string(i * 7 % 300) + "," +
           std::to_string(1 << (i % 4)) + "," + std::to_string(30 + i * 13 % 500) + ",vc" +
           std::to_string(i % 3) + ",,ds" + std::to_string(i % 3) + ",1.5\n";
  }
  const auto a = replay(cluster, csv, "switchyard");
  const auto b = replay(cluster, csv, "switchyard");
  CHECK(jobs_csv(a) == jobs_csv(b));
}

TEST_CASE("traces are read by header name, and bad rows say where", "[sim][trace]") {
  auto t = parse_trace("gpus,extra,job_id,duration_s,submit_s\n4,x,j1,60,5\n", "t.csv");
  REQUIRE(t.ok());
  CHECK(t->at(0).id == "j1");
  CHECK(t->at(0).gpus == 4);
  CHECK(t->at(0).submit_s == 5);
  CHECK(parse_trace("job_id,submit_s,gpus\n", "t.csv").error() ==
        "t.csv:1: no 'duration_s' column in the header");
  CHECK(parse_trace("job_id,submit_s,gpus,duration_s\nj,0,two,5\n", "t.csv").error() ==
        "t.csv:2: gpus: 'two' is not a GPU count >= 1");
  CHECK(parse_trace("job_id,submit_s,gpus,duration_s\nj,0,1\n", "t.csv").error() ==
        "t.csv:2: 3 fields, the header has 4");
}
