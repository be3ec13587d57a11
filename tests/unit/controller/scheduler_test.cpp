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

// The text `sy queue` shows for the i-th wait of a plan.
std::string why(const Snapshot& s, const Plan& p, std::size_t i) {
  const Wait& w = p.waits.at(i);
  for (const auto& j : s.pending) {
    if (j.id == w.job) return explain_wait(s, p, j, w);
  }
  return "no such job";
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
  CHECK(why(s, p, 0) == "waiting for 8 GPUs on one node; reserved to start at 01:00 UTC on dgx1");
  CHECK(why(s, p, 1) == "waiting for 4 GPUs on one node; job 1 is reserved to start at 01:00 UTC");

  // A reserved task of an array is named as people name it.
  auto labelled = s;
  labelled.pending[0].label = "7_0";
  CHECK(why(labelled, plan(labelled, switchyard_profile()), 1) ==
        "waiting for 4 GPUs on one node; job 7_0 is reserved to start at 01:00 UTC");

  Profile strict = switchyard_profile();
  strict.backfill = false;
  const Plan q = plan(s, strict);
  CHECK(q.starts.empty());
  CHECK(why(s, q, 2) == "waiting behind job 1 (strict queue order, no backfill)");
}

TEST_CASE("a job no node can ever hold does not block the queue", "[scheduler]") {
  auto s =
      ClusterBuilder().node("small", "pcie-4gpu-nvlink-pairs").job(1, 1, 8).job(2, 1, 2).snapshot();
  const Plan p = plan(s, switchyard_profile());
  CHECK_FALSE(p.reservation);
  REQUIRE(p.waits.size() == 1);
  CHECK(why(s, p, 0) == "waiting: no 8 GPUs on one node among the nodes that are up");
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
  s.usage.by_account = {{"heavy", 1e6}, {"light", 10}};
  std::vector<JobId> order;
  for (auto i : queue_order(s))
    order.push_back(s.pending[i].id);
  CHECK(order == std::vector<JobId>{3, 2, 4, 1});
  // Within an account, the user who used less goes first.
  s.pending[3].user = "frugal";
  s.usage.by_user = {{"u", 500}, {"frugal", 1}};
  order.clear();
  for (auto i : queue_order(s))
    order.push_back(s.pending[i].id);
  CHECK(order == std::vector<JobId>{3, 4, 2, 1});
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
      {"a", "ann", 4, 0, kHour},                  // 4 GPU-hours, ended 9 h ago
      {"a", "bob", 1, 9 * kHour, std::nullopt},   // running for the last hour: 1 GPU-hour
      {"b", "bob", 8, 8 * kHour, 9 * kHour},      // 8 GPU-hours, ended 1 h ago
      {"c", "cat", 2, 11 * kHour, std::nullopt},  // starts in the future: nothing yet
  };
  const auto usage = fair_share_usage(records, now, 9 * kHour);
  CHECK(usage.by_account.at("a") == Approx(4 * 3600 * 0.5 + 3600));
  CHECK(usage.by_account.at("b") == Approx(8 * 3600 * std::exp2(-1.0 / 9)));
  CHECK(usage.by_account.count("c") == 0);
  CHECK(usage.by_user.at("ann") == Approx(4 * 3600 * 0.5));
  CHECK(usage.by_user.at("bob") == Approx(3600 + 8 * 3600 * std::exp2(-1.0 / 9)));
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
  CHECK(why(s, p, 0) == "waiting: no 4 A100 GPUs on one node among the nodes that are up");
  CHECK(why(s, p, 1) == "waiting: no 1 V100 (>= 64G) GPUs on one node among the nodes that are up");
}

TEST_CASE("a reserved multi-node gang says where it will start", "[scheduler][explain]") {
  ClusterBuilder b;
  for (int i = 1; i <= 4; ++i) {
    b.node("n" + std::to_string(i), "dgx-h100", i <= 2 ? "leaf1" : "leaf2", "spine1");
    b.busy("n" + std::to_string(i), 0b1, 100 + i, (i + 1) * kHour);
  }
  b.job(1, 2, 8);
  const auto s = b.snapshot();
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(p.reservation);
  CHECK(why(s, p, 0) ==
        "waiting for 16 GPUs (2 nodes x 8); reserved to start at 03:00 UTC under leaf1 (n1,n2)");
}

TEST_CASE("data affinity: jobs go where their dataset already is", "[scheduler][data]") {
  constexpr std::int64_t kGB = 1'000'000'000;
  auto b = ClusterBuilder()
               .node("a", "dgx-h100")
               .node("b", "dgx-h100")
               .node("c", "dgx-h100")
               .dataset("imagenet", 150 * kGB)
               .dataset("tiny", 1'000'000)
               .holds("b", "imagenet", 50 * kGB)   // a third of it
               .holds("c", "imagenet", 150 * kGB)  // all of it
               .job(1, 1, 8)
               .uses("imagenet")
               .job(2, 1, 8)
               .uses("imagenet")
               .job(3, 1, 8)
               .uses("tiny");
  const auto s = b.snapshot();
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(p.starts.size() == 3);
  CHECK(start_of(p, 1)->placements[0].node == 2);  // holds it all
  CHECK(start_of(p, 1)->staging_ms == 0);
  CHECK(start_of(p, 2)->placements[0].node == 1);  // holds a third: 100 GB left, 100 s at 1 GB/s
  CHECK(start_of(p, 2)->staging_ms == 100'000);
  CHECK(start_of(p, 3)->placements[0].node == 0);
  // The scorer's share shows in the plan: full marks with nothing to stage.
  auto score = [](const Start& st) {
    for (const auto& [name, value] : st.scores) {
      if (name == "data-affinity") return value;
    }
    return -1;
  };
  CHECK(score(*start_of(p, 1)) == 100);
  CHECK(score(*start_of(p, 2)) == 84);  // 100 s of a 600 s horizon
  // Without data awareness (slurm-like), the first free node.
  Profile slurm_like;
  slurm_like.topology_aware = false;
  CHECK(plan(s, slurm_like).starts.at(0).placements[0].node == 0);
}

TEST_CASE("array tasks run at most their limit at once, and follow their data",
          "[scheduler][array][data]") {
  constexpr std::int64_t kGB = 1'000'000'000;
  ClusterBuilder b;
  b.node("a", "dgx-h100").node("b", "dgx-h100").dataset("c4", 800 * kGB);
  for (JobId id = 10; id < 16; ++id)
    b.job(id, 1, 2).uses("c4").in_array(10, 3);
  // No node holds c4 yet: the first task goes first-best, and the next ones follow it there
  // because its staging makes that node the holder.
  const auto s = b.snapshot();
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(p.starts.size() == 3);
  for (const auto& st : p.starts)
    CHECK(st.placements[0].node == p.starts[0].placements[0].node);
  REQUIRE(p.waits.size() == 3);
  CHECK(why(s, p, 0) == "waiting: 3 tasks of array 10 already running (its limit)");
  // Tasks already running count against the limit.
  auto s2 = s;
  s2.array_active[10] = 2;
  CHECK(plan(s2, switchyard_profile()).starts.size() == 1);
}

TEST_CASE("the reserved job's datasets are pre-staged where it is reserved", "[scheduler][data]") {
  constexpr std::int64_t kGB = 1'000'000'000;
  const auto s = ClusterBuilder()
                     .node("a", "dgx-h100", "leaf1", "spine1")
                     .node("b", "dgx-h100", "leaf1", "spine1")
                     .busy("a", 0b1, 90, kHour)
                     .busy("b", 0b1, 91, 2 * kHour)
                     .dataset("laion", 400 * kGB)
                     .dataset("coco", 20 * kGB)
                     .holds("a", "laion", 400 * kGB)
                     .holds("b", "laion", 100 * kGB)
                     .job(1, 2, 8)
                     .uses("laion")
                     .uses("coco")
                     .snapshot();
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(p.reservation);
  CHECK(p.reservation->start_ms == 2 * kHour);
  const std::vector<PreStage> expected = {
      {1, 0, "coco", 20 * kGB}, {1, 1, "laion", 300 * kGB}, {1, 1, "coco", 20 * kGB}};
  CHECK(p.prestage == expected);
}

TEST_CASE("dependencies: after_ok waits for success, after_any for any end",
          "[scheduler][dependency]") {
  auto b = ClusterBuilder()
               .node("n", "dgx-h100")
               .outcome(7, Outcome::ended)
               .outcome(8, Outcome::ended)
               .outcome(9, Outcome::succeeded)
               .job(1, 1, 1)
               .job(2, 1, 1)
               .after(1)  // 1 is still pending
               .job(3, 1, 1)
               .after(7)  // 7 failed: can never run
               .job(4, 1, 1)
               .after(8, false)  // 8 ended, any end will do
               .job(5, 1, 1)
               .after(9)
               .after(8, false);
  const auto s = b.snapshot();
  const Plan p = plan(s, switchyard_profile());
  CHECK(start_of(p, 1));
  CHECK(start_of(p, 2) == nullptr);
  CHECK(start_of(p, 4));
  CHECK(start_of(p, 5));
  REQUIRE(p.drops.size() == 1);
  CHECK(p.drops[0] == Drop{3, 7});
  REQUIRE(p.waits.size() == 1);
  CHECK(why(s, p, 0) == "waiting for job 1 to complete (after_ok)");
}

TEST_CASE("a job waiting on something else than GPUs holds nothing back", "[scheduler]") {
  const auto s = ClusterBuilder()
                     .node("n", "dgx-h100")
                     .busy("n", 0b1111, 50, kHour)
                     .job(1, 1, 8, 0, 10)  // top priority, but not before 2h
                     .begins(2 * kHour)
                     .job(2, 1, 4, 3 * kHour)  // would overlap a reservation for job 1
                     .snapshot();
  const Plan p = plan(s, switchyard_profile());
  CHECK_FALSE(p.reservation);
  CHECK(start_of(p, 2));
  CHECK(p.wake_ms == 2 * kHour);
  CHECK(why(s, p, 0) == "waiting: not to start before 1970-01-01 02:00 UTC");
  // At 2h it is due (and its GPUs are free by then in this snapshot).
  const auto later = ClusterBuilder().node("n", "dgx-h100").job(1, 1, 8).begins(2 * kHour);
  CHECK(plan(later.snapshot(2 * kHour), switchyard_profile()).starts.size() == 1);
}

TEST_CASE("node features: a job runs only on nodes that have them all", "[scheduler][placement]") {
  const auto s = ClusterBuilder()
                     .node("a", "dgx-h100")
                     .node("b", "dgx-h100")
                     .feature("b", "ib")
                     .feature("b", "nvme")
                     .job(1, 1, 1)
                     .wants("nvme")
                     .wants("ib")
                     .job(2, 1, 1)
                     .wants("gdr")
                     .snapshot();
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(start_of(p, 1));
  CHECK(start_of(p, 1)->placements[0].node == 1);
  CHECK(why(s, p, 0) == "waiting: no 1 GPUs on one node with gdr among the nodes that are up");
}

TEST_CASE("CPUs and memory per node are counted: a job waits for them as for GPUs",
          "[scheduler][resources]") {
  constexpr std::int64_t kGiB = 1024;
  auto s = ClusterBuilder()
               .node("a", "dgx1-v100")
               .room("a", 16, 64 * kGiB)
               .job(1, 1, 1, kHour)
               .asks(12)  // starts: 12 of the 16 CPUs
               .job(2, 1, 1, kHour)
               .asks(8)  // GPUs are free, CPUs are not until job 1 ends: reserved at 1h
               .job(3, 1, 1, 2 * kHour)
               .asks(4)  // would overlap the reservation, whose CPUs it would take: waits
               .job(4, 1, 1, kHour / 2)
               .asks(4)  // ends before the reservation: backfills on the last 4 CPUs
               .job(5, 1, 1, kHour)
               .asks(1, 80 * kGiB)  // more memory than the node has: never fits
               .snapshot();
  const Plan p = plan(s, switchyard_profile());
  REQUIRE(start_of(p, 1));
  CHECK(start_of(p, 1)->cpus_per_node == 12);
  REQUIRE(p.reservation);
  CHECK(p.reservation->job == 2);
  CHECK(p.reservation->start_ms == kHour);
  CHECK(start_of(p, 3) == nullptr);
  REQUIRE(start_of(p, 4));
  CHECK(start_of(p, 4)->backfilled);
  CHECK(start_of(p, 5) == nullptr);
  std::map<JobId, std::string> reasons;
  for (std::size_t i = 0; i < p.waits.size(); ++i)
    reasons[p.waits[i].job] = why(s, p, i);
  CHECK(reasons[2] ==
        "waiting for 1 GPUs on one node (with 8 CPUs); reserved to start at 01:00 UTC on a");
  CHECK(
      reasons[5] ==
      "waiting for 1 GPUs on one node (with 80G memory); job 2 is reserved to start at 01:00 UTC");
  // Alone, it is a job no node can ever hold.
  auto alone = ClusterBuilder()
                   .node("a", "dgx1-v100")
                   .room("a", 16, 64 * kGiB)
                   .job(5, 1, 1, kHour)
                   .asks(1, 80 * kGiB)
                   .snapshot();
  const Plan never = plan(alone, switchyard_profile());
  REQUIRE(never.waits.size() == 1);
  CHECK(why(alone, never, 0) ==
        "waiting: no 1 GPUs on one node (with 80G memory) among the nodes that are up");

  // What running jobs hold counts the same way: with job 1 already running, the same.
  auto running = ClusterBuilder()
                     .node("a", "dgx1-v100")
                     .room("a", 16, 64 * kGiB)
                     .busy("a", 0b1, 50, kHour, 12, 0)
                     .job(2, 1, 1, kHour)
                     .asks(8)
                     .snapshot();
  const Plan q = plan(running, switchyard_profile());
  CHECK(q.starts.empty());
  REQUIRE(q.reservation);
  CHECK(q.reservation->start_ms == kHour);

  // A node that does not say what it has is not limited by it; the index's best node lacking
  // CPUs sends the job to another node that has them.
  auto two = ClusterBuilder()
                 .node("small", "dgx1-v100")
                 .room("small", 2, 64 * kGiB)
                 .node("unknown", "dgx1-v100")
                 .job(1, 1, 1)
                 .asks(8)
                 .snapshot();
  const Plan r = plan(two, switchyard_profile());
  REQUIRE(start_of(r, 1));
  CHECK(two.nodes[static_cast<std::size_t>(start_of(r, 1)->placements[0].node)].name == "unknown");
}
