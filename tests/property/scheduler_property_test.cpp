// Invariants of the scheduling pass over randomized clusters and queues. Seeds are fixed, so a
// failure names the seed that reproduces it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <random>
#include <set>

#include "controller/scheduler/gang_placer.hpp"
#include "controller/scheduler/plan.hpp"
#include "tests/support/cluster_builder.hpp"

using namespace sy;
using namespace sy::sched;
using sy::test::ClusterBuilder;

namespace {

constexpr std::int64_t kMinute = 60 * 1000;

Profile profile_for(bool topology_aware, bool backfill, bool interconnect_aware) {
  static const auto scorers = placement::make_placement_scorers();
  Profile p;
  p.topology_aware = topology_aware;
  p.backfill = backfill;
  p.interconnect_aware = interconnect_aware;
  p.default_time_limit_ms = 60 * kMinute;
  for (const auto& s : scorers)
    p.scorers.emplace_back(s.get(), 1);
  return p;
}

Snapshot random_snapshot(unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const char* fixtures[] = {"dgx1-v100", "dgx-h100", "pcie-4gpu-nvlink-pairs", "pcie-8gpu-2socket"};
  ClusterBuilder b;
  const int nodes = pick(1, 10);
  for (int i = 0; i < nodes; ++i) {
    b.node("n" + std::to_string(i), fixtures[pick(0, 3)], "leaf" + std::to_string(i / 3),
           "spine" + std::to_string(i / 6));
  }
  Snapshot s = b.snapshot();
  JobId next_job = 1000;
  for (int i = 0; i < nodes; ++i) {
    const int gpus = s.nodes[i].topology->gpu_count();
    GpuMask busy = 0;
    for (int g = 0; g < gpus; ++g) {
      if (pick(0, 2) == 0) busy |= GpuMask{1} << g;
    }
    // Some nodes say how many CPUs and how much memory they have; running jobs hold some.
    const bool counted = pick(0, 1) == 0;
    if (counted) s.nodes[i].room = Room{pick(8, 64), pick(64, 512) * 1024LL};
    if (busy) {
      s.nodes[i].free &= ~busy;
      const int cpus = counted ? pick(0, static_cast<int>(s.nodes[i].room.cpus)) : 0;
      const std::int64_t memory = counted ? pick(0, 64) * 1024LL : 0;
      s.nodes[i].room = take(s.nodes[i].room, cpus, memory);
      s.running.push_back({next_job++, i, busy, pick(1, 120) * kMinute, cpus, memory});
    }
    if (pick(0, 9) == 0) s.nodes[i].schedulable = false;
    if (pick(0, 2) == 0) s.nodes[i].features = {"ib"};
    if (pick(0, 3) == 0) s.nodes[i].features.push_back("nvme");
    for (const char* d : {"ds0", "ds1", "ds2"}) {
      if (pick(0, 3) == 0) s.nodes[i].cached[d] = pick(0, 4) * 25'000'000'000LL;
    }
  }
  s.dataset_bytes = {{"ds0", 100'000'000'000LL}, {"ds1", 2'000'000'000LL}, {"ds2", 0}};
  for (const auto& a : s.running)
    s.outcomes[a.job] = Outcome::active;
  s.outcomes[5000] = Outcome::succeeded;
  s.outcomes[5001] = Outcome::ended;
  s.now_ms = pick(0, 10) * kMinute;
  const int jobs = pick(1, 25);
  const int sizes[] = {1, 1, 2, 4, 4, 8};
  for (int j = 0; j < jobs; ++j) {
    PendingJob job;
    job.id = j + 1;
    job.account = "a" + std::to_string(pick(0, 3));
    job.user = pick(0, 1) ? "u" : "v";
    job.priority = pick(0, 2) * 10;
    job.submit_ms = pick(0, 1000);
    job.nodes = pick(0, 4) == 0 ? pick(2, 3) : 1;
    job.gpus_per_node = sizes[pick(0, 5)];
    if (pick(0, 1) == 0) job.cpus_per_node = job.gpus_per_node * pick(1, 12);
    if (pick(0, 2) == 0) job.memory_per_node_mib = job.gpus_per_node * pick(4, 96) * 1024LL;
    job.time_limit_ms = pick(0, 3) == 0 ? 0 : pick(5, 240) * kMinute;
    if (pick(0, 5) == 0) job.gpu_model = pick(0, 1) ? "H100" : "v100";
    if (pick(0, 7) == 0) job.min_gpu_memory_mib = pick(16, 64) * 1024;
    if (pick(0, 5) == 0) job.features = {"ib"};
    if (pick(0, 9) == 0) job.features.push_back("nvme");
    for (const char* d : {"ds0", "ds1", "ds2", "unregistered"}) {
      if (pick(0, 3) == 0) job.datasets.push_back(d);
    }
    if (pick(0, 5) == 0) {
      const JobId targets[] = {5000, 5001, 1000, j > 0 ? j : 5000};
      job.after.push_back({targets[pick(0, 3)], pick(0, 1) == 0});
    }
    if (pick(0, 7) == 0) job.begin_ms = pick(0, 20) * kMinute;
    if (pick(0, 3) == 0) {
      job.array_id = 900 + pick(0, 1);
      job.array_limit = pick(0, 3);
    }
    s.pending.push_back(job);
  }
  s.usage.by_account = {{"a0", 5}, {"a1", 500}, {"a2", 0}};
  s.usage.by_user = {{"u", 3}};
  if (pick(0, 1)) s.array_active[900] = pick(0, 2);
  return s;
}

}  // namespace

TEST_CASE("scheduling invariants hold on random clusters and queues", "[scheduler][property]") {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    const Snapshot s = random_snapshot(seed);
    // (topology aware, backfill, interconnect aware): the controller's profiles and the
    // simulator's no-topology ablation.
    const bool configs[][3] = {{true, true, true},
                               {true, false, true},
                               {false, true, true},
                               {false, false, true},
                               {true, true, false}};
    for (const auto& [aware, backfill, interconnect] : configs) {
      {
        INFO("seed " << seed << " topology_aware=" << aware << " backfill=" << backfill
                     << " interconnect_aware=" << interconnect);
        const Profile profile = profile_for(aware, backfill, interconnect);
        const Plan p = plan(s, profile);

        // Same input, same output, whatever order the queue arrived in, and the same with the
        // node index as with a scan of every node.
        CHECK(plan(s, profile) == p);
        Profile scanning = profile;
        scanning.use_index = false;
        CHECK(plan(s, scanning) == p);
        Snapshot shuffled = s;
        std::shuffle(shuffled.pending.begin(), shuffled.pending.end(), std::mt19937(seed));
        CHECK(plan(shuffled, profile) == p);

        // Every pending job either starts, waits or is dropped, once; every wait explains itself.
        std::map<JobId, int> seen;
        for (const auto& st : p.starts)
          seen[st.job]++;
        for (const auto& w : p.waits)
          seen[w.job]++;
        for (const auto& d : p.drops)
          seen[d.job]++;
        REQUIRE(seen.size() == s.pending.size());
        for (const auto& [job, n] : seen)
          CHECK(n == 1);

        // No GPU is given twice, or given while busy or on an unschedulable node; gangs are whole.
        std::vector<GpuMask> taken(s.nodes.size(), 0);
        std::map<JobId, const PendingJob*> by_id;
        for (const auto& j : s.pending)
          by_id[j.id] = &j;
        for (const auto& w : p.waits)
          CHECK(explain_wait(s, p, *by_id.at(w.job), w).rfind("waiting", 0) == 0);
        // A job starts only when due, with its dependencies met and within its array's limit;
        // it is dropped only when a job it needs to succeed did not.
        std::map<JobId, int> array_active = s.array_active;
        for (const auto& st : p.starts) {
          const PendingJob& job = *by_id.at(st.job);
          CHECK(job.begin_ms <= s.now_ms);
          for (const auto& d : job.after) {
            const Outcome o = by_id.contains(d.job)        ? Outcome::active
                              : s.outcomes.contains(d.job) ? s.outcomes.at(d.job)
                                                           : Outcome::ended;
            CHECK(o != Outcome::active);
            CHECK((o == Outcome::succeeded || !d.ok_only));
          }
          if (job.array_id && job.array_limit) {
            CHECK(++array_active[job.array_id] <= job.array_limit);
          }
        }
        for (const auto& d : p.drops) {
          const bool ended =
              !s.outcomes.contains(d.dependency) || s.outcomes.at(d.dependency) == Outcome::ended;
          CHECK(ended);
        }
        // Pre-staging is only for the reserved job, on its nodes, for what they lack.
        for (const auto& ps : p.prestage) {
          REQUIRE(p.reservation);
          CHECK(ps.job == p.reservation->job);
          CHECK(ps.bytes > 0);
        }
        // No node's CPUs or memory are given beyond what it has free.
        std::vector<Room> room_left(s.nodes.size());
        for (std::size_t n = 0; n < s.nodes.size(); ++n)
          room_left[n] = s.nodes[n].room;
        for (const auto& st : p.starts) {
          const PendingJob& job = *by_id.at(st.job);
          CHECK(st.cpus_per_node == job.cpus_per_node);
          CHECK(st.memory_per_node_mib == job.memory_per_node_mib);
          for (const auto& pl : st.placements) {
            CHECK(fits(room_left[pl.node], job));
            room_left[pl.node] =
                take(room_left[pl.node], job.cpus_per_node, job.memory_per_node_mib);
          }
        }
        for (const auto& st : p.starts) {
          const PendingJob& job = *by_id.at(st.job);
          REQUIRE(static_cast<int>(st.placements.size()) == job.nodes);
          std::set<int> nodes;
          for (const auto& pl : st.placements) {
            nodes.insert(pl.node);
            CHECK(std::popcount(pl.gpus) == job.gpus_per_node);
            CHECK(s.nodes[pl.node].schedulable);
            CHECK(gpus_match(*s.nodes[pl.node].topology, job));
            CHECK(has_features(s.nodes[pl.node], job));
            CHECK((pl.gpus & ~s.nodes[pl.node].free) == 0);
            CHECK((pl.gpus & taken[pl.node]) == 0);
            taken[pl.node] |= pl.gpus;
          }
          CHECK(static_cast<int>(nodes.size()) == job.nodes);
        }

        // A backfilled job never delays the reservation: it ends first or keeps off its GPUs.
        std::vector<GpuMask> reserved(s.nodes.size(), 0);
        if (p.reservation) {
          for (const auto& pl : p.reservation->placements)
            reserved[pl.node] |= pl.gpus;
          for (const auto& st : p.starts) {
            if (!st.backfilled) continue;
            const PendingJob& job = *by_id.at(st.job);
            const std::int64_t end =
                s.now_ms + (job.time_limit_ms ? job.time_limit_ms : profile.default_time_limit_ms);
            if (end <= p.reservation->start_ms) continue;
            for (const auto& pl : st.placements)
              CHECK((pl.gpus & reserved[pl.node]) == 0);
          }
        }

        // No job waits while a placement for it is free that no higher job needs: what is left
        // after the starts (less the reservation's GPUs for jobs that would overlap it) cannot
        // hold any waiting job that was considered.
        std::vector<GpuMask> left(s.nodes.size());
        for (std::size_t n = 0; n < s.nodes.size(); ++n) {
          left[n] = (s.nodes[n].schedulable ? s.nodes[n].free : 0) & ~taken[n];
        }
        GangPlacer placer(s, profile);
        for (const auto& w : p.waits) {
          // Jobs not considered for GPUs at all.
          if (w.why != WaitWhy::resources && w.why != WaitWhy::reserved &&
              w.why != WaitWhy::never_fits) {
            continue;
          }
          const PendingJob& job = *by_id.at(w.job);
          std::vector<GpuMask> usable = left;
          std::vector<Room> usable_room = room_left;
          const std::int64_t end =
              s.now_ms + (job.time_limit_ms ? job.time_limit_ms : profile.default_time_limit_ms);
          const bool is_reserved = p.reservation && p.reservation->job == job.id;
          if (p.reservation && !is_reserved && end > p.reservation->start_ms) {
            // ... and less the reserved job's CPUs and memory on its nodes.
            const PendingJob& holder = *by_id.at(p.reservation->job);
            for (std::size_t n = 0; n < usable.size(); ++n) {
              if (reserved[n]) {
                usable_room[n] =
                    take(usable_room[n], holder.cpus_per_node, holder.memory_per_node_mib);
              }
              usable[n] &= ~reserved[n];
            }
          }
          CHECK_FALSE(placer.place(job, usable, usable_room).has_value());
        }
      }
    }
  }
}
