#include <catch2/catch.hpp>

#include <cmath>

#include "controller/scheduler/fair_share.hpp"
#include "controller/scheduler/plan.hpp"
#include "controller/scheduler/queue_order.hpp"
#include "tests/support/cluster_builder.hpp"

using namespace sy;
using namespace sy::sched;
using sy::test::ClusterBuilder;

namespace {

constexpr std::int64_t kHour = 3600 * 1000;

Profile switchyard_profile() {
  static const auto scorers = placement::make_placement_scorers();
  Profile p;
  for (const auto& s : scorers)
    p.scorers.emplace_back(s.get(), 1);
  return p;
}

const Start* start_of(const Plan& p, JobId id) {
  for (const auto& s : p.starts) {
    if (s.job == id) return &s;
  }
  return nullptr;
}

bool fully_nvlinked(const topo::NodeTopology& t, GpuMask mask) {
  const auto gpus = placement::gpus_of(mask);
  for (int a : gpus) {
    for (int b : gpus) {
      if (a != b && t.link(a, b).kind != topo::LinkKind::nvlink) return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("on a DGX-1 a 4-GPU job gets a fully NVLink-connected quad", "[scheduler][placement]") {
  auto s = ClusterBuilder().node("dgx1", "dgx1-v100").job(1, 1, 4).snapshot();
  const Plan p = plan(s, switchyard_profile());
  const Start* j = start_of(p, 1);
  REQUIRE(j);
  REQUIRE(j->placements.size() == 1);
  CHECK(j->placements[0].gpus == 0b00001111);
  CHECK(j->ring_gbps == 25);
  CHECK(fully_nvlinked(ClusterBuilder::fixture("dgx1-v100"), j->placements[0].gpus));
}

TEST_CASE("two 4-GPU jobs on one DGX-1 both get NVLink quads", "[scheduler][placement]") {
  auto s = ClusterBuilder().node("dgx1", "dgx1-v100").job(1, 1, 4).job(2, 1, 4).snapshot();
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(p.starts.size() == 2);
  CHECK(start_of(p, 1)->placements[0].gpus == 0b00001111);
  CHECK(start_of(p, 2)->placements[0].gpus == 0b11110000);
  for (const auto& st : p.starts) {
    CHECK(fully_nvlinked(ClusterBuilder::fixture("dgx1-v100"), st.placements[0].gpus));
  }
  // First fit, for contrast, takes the lowest free indices whatever the links.
  Profile first_fit;
  first_fit.topology_aware = false;
  auto busy = ClusterBuilder()
                  .node("dgx1", "dgx1-v100")
                  .busy("dgx1", 0b00000011, 9, kHour)
                  .job(1, 1, 4)
                  .snapshot();
  CHECK(plan(busy, first_fit).starts.at(0).placements[0].gpus == 0b00111100);
  CHECK_FALSE(fully_nvlinked(ClusterBuilder::fixture("dgx1-v100"), 0b00111100));
}

TEST_CASE("a 16-GPU job lands under one leaf when one leaf can hold it", "[scheduler][placement]") {
  ClusterBuilder b;
  const char* leaves[] = {"leaf1", "leaf1", "leaf1", "leaf1", "leaf2", "leaf2", "leaf2", "leaf2",
                          "leaf3", "leaf3", "leaf3", "leaf3", "leaf4", "leaf4", "leaf4", "leaf4"};
  for (int i = 0; i < 16; ++i) {
    const std::string name = (i + 1 < 10 ? "node0" : "node") + std::to_string(i + 1);
    b.node(name, i % 2 ? "dgx-h100" : "pcie-8gpu-2socket", leaves[i], i < 8 ? "spine1" : "spine2");
  }
  // Leaves 1, 2 and 4 have at most one whole node free; only leaf3 has two.
  for (const char* n : {"node01", "node02", "node03", "node05", "node06", "node07", "node13",
                        "node14", "node15", "node09"}) {
    b.busy(n, 0b1, 100, kHour);
  }
  b.job(1, 2, 8);
  const Plan p = plan(b.snapshot(), switchyard_profile());
  const Start* j = start_of(p, 1);
  REQUIRE(j);
  REQUIRE(j->placements.size() == 2);
  auto s = b.snapshot();
  for (const auto& pl : j->placements)
    CHECK(s.nodes[pl.node].leaf == "leaf3");

  // With no leaf able to hold it, the gang stays under one spine.
  b.busy("node10", 0b1, 101, kHour);
  const Plan p2 = plan(b.snapshot(), switchyard_profile());
  const Start* j2 = start_of(p2, 1);
  REQUIRE(j2);
  auto s2 = b.snapshot();
  CHECK(s2.nodes[j2->placements[0].node].spine == s2.nodes[j2->placements[1].node].spine);
}

TEST_CASE("backfill starts only jobs that cannot delay the reservation", "[scheduler][backfill]") {
  auto s = ClusterBuilder()
               .node("dgx1", "dgx1-v100")
               .busy("dgx1", 0b00001111, 50, kHour)  // GPUs 0-3 until 1h
               .job(1, 1, 8, 2 * kHour)              // needs the whole node: reserved at 1h
               .job(2, 1, 4, 2 * kHour)              // would still hold GPUs 4-7 at 1h: waits
               .job(3, 1, 4, kHour / 2)              // ends before 1h: backfills on 4-7
               .snapshot();
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(p.reservation);
  CHECK(p.reservation->job == 1);
  CHECK(p.reservation->start_ms == kHour);
  CHECK(start_of(p, 2) == nullptr);
  const Start* j3 = start_of(p, 3);
  REQUIRE(j3);
  CHECK(j3->backfilled);
  CHECK(j3->placements[0].gpus == 0b11110000);
  REQUIRE(p.waits.size() == 2);
  CHECK(p.waits[0].reason ==
        "waiting for 8 GPUs on one node; reserved to start at 01:00:00 UTC on dgx1");
  CHECK(p.waits[1].reason ==
        "waiting for 4 GPUs on one node; job 1 is reserved to start at 01:00:00 UTC");

  Profile strict = switchyard_profile();
  strict.backfill = false;
  const Plan q = plan(s, strict);
  CHECK(q.starts.empty());
  CHECK(q.waits.at(2).reason == "waiting behind job 1 (strict queue order, no backfill)");
}

TEST_CASE("a job no node can ever hold does not block the queue", "[scheduler]") {
  auto s =
      ClusterBuilder().node("small", "pcie-4gpu-nvlink-pairs").job(1, 1, 8).job(2, 1, 2).snapshot();
  const Plan p = plan(s, switchyard_profile());
  CHECK_FALSE(p.reservation);
  REQUIRE(p.waits.size() == 1);
  CHECK(p.waits[0].reason == "waiting: no 8 GPUs on one node among the nodes that are up");
  REQUIRE(start_of(p, 2));
  CHECK(start_of(p, 2)->placements[0].gpus == 0b0011);  // the NV4 pair
}

TEST_CASE("queue order: priority, then fair share, then age", "[scheduler][queue]") {
  auto s = ClusterBuilder()
               .node("n", "dgx-h100")
               .job(1, 1, 1, 0, 0, "heavy")
               .job(2, 1, 1, 0, 0, "light")
               .job(3, 1, 1, 0, 5, "heavy")
               .job(4, 1, 1, 0, 0, "light")
               .snapshot();
  s.usage = {{"heavy", 1e6}, {"light", 10}};
  std::vector<JobId> order;
  for (auto i : queue_order(s))
    order.push_back(s.pending[i].id);
  CHECK(order == std::vector<JobId>{3, 2, 4, 1});
  CHECK(decayed_usage(100, kHour, kHour) == Approx(50));
  CHECK(decayed_usage(100, 0, kHour) == Approx(100));
}

TEST_CASE("drained and down nodes get nothing", "[scheduler]") {
  auto s = ClusterBuilder()
               .node("a", "dgx-h100")
               .node("b", "dgx-h100")
               .job(1, 1, 8)
               .job(2, 1, 8)
               .snapshot();
  s.nodes[0].schedulable = false;
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(p.starts.size() == 1);
  CHECK(p.starts[0].placements[0].node == 1);
}

TEST_CASE("fair-share usage decays with its half-life", "[scheduler][queue]") {
  const std::int64_t now = 10 * kHour;
  const std::vector<UsageRecord> records = {
      {"a", 4, 0, kHour},                  // 4 GPU-hours, ended 9 h ago
      {"a", 1, 9 * kHour, std::nullopt},   // running for the last hour: 1 GPU-hour, no decay
      {"b", 8, 8 * kHour, 9 * kHour},      // 8 GPU-hours, ended 1 h ago
      {"c", 2, 11 * kHour, std::nullopt},  // starts in the future: nothing yet
  };
  const auto usage = fair_share_usage(records, now, 9 * kHour);
  CHECK(usage.at("a") == Approx(4 * 3600 * 0.5 + 3600));
  CHECK(usage.at("b") == Approx(8 * 3600 * std::exp2(-1.0 / 9)));
  CHECK(usage.count("c") == 0);
}

TEST_CASE("jobs asking for a GPU model or memory get only such GPUs", "[scheduler][placement]") {
  auto s = ClusterBuilder()
               .node("v100", "dgx1-v100")          // Tesla V100-SXM2-32GB
               .node("h100", "dgx-h100")           // NVIDIA H100 80GB HBM3
               .node("l40s", "pcie-8gpu-2socket")  // NVIDIA L40S, 48G
               .job(1, 1, 2)
               .needs("h100")  // any case
               .job(2, 1, 8)
               .needs("", 40 * 1024)  // 40G or more: H100 or L40S
               .job(3, 1, 4)
               .needs("A100")  // no such GPU here
               .job(4, 1, 1)
               .needs("V100", 64 * 1024)  // V100s here have 32G
               .snapshot();
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(start_of(p, 1));
  CHECK(start_of(p, 1)->placements[0].node == 1);
  REQUIRE(start_of(p, 2));
  CHECK(start_of(p, 2)->placements[0].node == 2);  // the H100 node has only 6 GPUs left
  CHECK(start_of(p, 3) == nullptr);
  CHECK(start_of(p, 4) == nullptr);
  REQUIRE(p.waits.size() == 2);
  CHECK(p.waits[0].reason == "waiting: no 4 A100 GPUs on one node among the nodes that are up");
  CHECK(p.waits[1].reason ==
        "waiting: no 1 V100 (>= 64G) GPUs on one node among the nodes that are up");
}
