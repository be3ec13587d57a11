#include "controller/sim/simulator.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "controller/scheduler/data_holding.hpp"
#include "controller/scheduler/option_memo.hpp"
#include "plugins/placement/placement_scorer.hpp"

namespace sy::sim {
namespace {

// A node's dataset cache: what it holds, when each copy is (or will be) complete, when each was
// last used, and how many running jobs pin it. Evicts the least recently used unpinned dataset,
// as the agent's cache does.
struct Cache {
  struct Entry {
    std::int64_t bytes = 0;
    std::int64_t ready_ms = 0;
    std::int64_t used_ms = 0;
    int pins = 0;
  };
  std::map<std::string, Entry> entries;
  std::int64_t used = 0;

  // Makes room for `bytes`; false when pinned data leaves too little.
  bool make_room(std::int64_t bytes, std::int64_t capacity) {
    while (used + bytes > capacity) {
      auto victim = entries.end();
      for (auto it = entries.begin(); it != entries.end(); ++it) {
        if (it->second.pins == 0 &&
            (victim == entries.end() || it->second.used_ms < victim->second.used_ms)) {
          victim = it;
        }
      }
      if (victim == entries.end()) return false;
      used -= victim->second.bytes;
      entries.erase(victim);
    }
    return true;
  }
};

Spread spread_of(const SimCluster& c, const std::vector<sched::NodePlacement>& placements) {
  if (placements.size() <= 1) return Spread::one_node;
  std::set<std::string> leaves, spines;
  for (const auto& p : placements) {
    leaves.insert(c.nodes[p.node].leaf);
    spines.insert(c.nodes[p.node].spine);
  }
  if (leaves.size() == 1) return Spread::same_leaf;
  return spines.size() == 1 ? Spread::same_spine : Spread::cross_spine;
}

}  // namespace

void gang_shape(int gpus, int gpus_per_node, int& nodes, int& per_node) {
  if (gpus <= gpus_per_node) {
    nodes = 1;
    per_node = gpus;
    return;
  }
  nodes = (gpus + gpus_per_node - 1) / gpus_per_node;
  per_node = (gpus + nodes - 1) / nodes;
}

Simulator::Simulator(const SimCluster& cluster, const RuntimeModel& model, SimOptions options)
    : cluster_(cluster), model_(model), options_(options) {
  gpus_per_node_ = std::max(1, cluster.max_gpus_per_node());
  best_by_count_.assign(gpus_per_node_ + 1, 0);
  for (int k = 1; k <= gpus_per_node_; ++k) {
    for (const auto& t : cluster.topologies) {
      if (t->gpu_count() < k) continue;
      std::vector<int> all(t->gpu_count());
      for (int g = 0; g < t->gpu_count(); ++g)
        all[g] = g;
      const auto best = topo::best_ring_subset(*t, all, k);
      best_by_count_[k] = std::max(best_by_count_[k], topo::ring_bottleneck_gbps(*t, best));
    }
  }
}

double Simulator::best_gbps(int gpus) const {
  int nodes = 1, per_node = 1;
  gang_shape(gpus, gpus_per_node_, nodes, per_node);
  const double inside = best_by_count_[per_node];
  return nodes == 1 ? inside : std::min(inside, model_.network_gbps(Spread::same_leaf));
}

sched::Snapshot Simulator::empty_snapshot(const std::vector<TraceJob>& trace) const {
  sched::Snapshot s;
  for (const auto& n : cluster_.nodes) {
    sched::NodeInput in;
    in.name = n.name;
    in.topology = n.topology;
    in.leaf = n.leaf;
    in.spine = n.spine;
    const int g = n.topology->gpu_count();
    in.free = g >= 64 ? ~sched::GpuMask{0} : (sched::GpuMask{1} << g) - 1;
    in.features = n.topology->features;
    s.nodes.push_back(std::move(in));
  }
  for (const auto& t : trace) {
    if (!t.dataset.empty()) {
      s.dataset_bytes[t.dataset] = static_cast<std::int64_t>(t.dataset_gb * 1e9);
    }
  }
  return s;
}

sched::PendingJob Simulator::pending_job(const TraceJob& t, std::size_t index,
                                         std::int64_t now_ms) const {
  sched::PendingJob p;
  p.id = static_cast<sched::JobId>(index) + 1;
  p.user = t.user;
  p.account = t.user;
  p.submit_ms = now_ms;
  gang_shape(t.gpus, gpus_per_node_, p.nodes, p.gpus_per_node);
  p.time_limit_ms = static_cast<std::int64_t>(
      std::ceil(static_cast<double>(t.duration_s) * 1000.0 * options_.limit_factor));
  if (!t.dataset.empty()) p.datasets = {t.dataset};
  return p;
}

SimResult Simulator::run(const std::vector<TraceJob>& trace, const sched::Profile& profile,
                         const std::string& policy_name) const {
  const auto wall_start = std::chrono::steady_clock::now();
  SimResult out;
  out.policy = policy_name;
  out.jobs.resize(trace.size());

  // Jobs by submit time; their scheduler id is their index in the trace plus one.
  std::vector<std::size_t> arrivals(trace.size());
  for (std::size_t i = 0; i < trace.size(); ++i)
    arrivals[i] = i;
  std::stable_sort(arrivals.begin(), arrivals.end(), [&](std::size_t a, std::size_t b) {
    return trace[a].submit_s < trace[b].submit_s;
  });

  sched::Snapshot s = empty_snapshot(trace);
  std::vector<ClassChoice> classes(trace.size());
  for (std::size_t i = 0; i < trace.size(); ++i) {
    classes[i] = model_.choose(trace[i]);
  }
  std::vector<Cache> caches(cluster_.nodes.size());
  // What the nodes' caches hold by dataset number, followed as copies and evictions change them.
  sched::DataHolding holding(s.dataset_bytes, s.nodes);
  if (options_.incremental) s.holding = &holding;
  // (end, job index): the next job to end first; ties by trace order.
  using End = std::pair<std::int64_t, std::size_t>;
  std::priority_queue<End, std::vector<End>, std::greater<End>> ends;
  std::unordered_map<std::size_t, std::vector<sched::NodePlacement>> held;

  bool caches_changed = false;  // since the last pass, other than as that pass foresaw
  // Starts copying `dataset` to `node` at `now` unless it is there or on its way; returns when the
  // copy is complete (now if it cannot be cached: the job then reads it remotely, unstaged).
  auto stage = [&](int node, const std::string& dataset, std::int64_t now, bool pin,
                   bool& hit) -> std::int64_t {
    Cache& c = caches[node];
    const std::int64_t bytes = s.dataset_bytes.at(dataset);
    auto it = c.entries.find(dataset);
    if (it != c.entries.end()) {
      hit = hit && it->second.ready_ms <= now;
      it->second.used_ms = now;
      if (pin) ++it->second.pins;
      return it->second.ready_ms;
    }
    hit = false;
    const auto ms = static_cast<std::int64_t>(
        std::ceil(static_cast<double>(bytes) * 1000.0 / cluster_.staging_bytes_per_s));
    const std::size_t held_before = c.entries.size();
    const bool room = c.make_room(bytes, cluster_.tier0_bytes);
    const bool evicted = c.entries.size() != held_before;
    if (room) {
      c.entries[dataset] = {bytes, now + ms, now, pin ? 1 : 0};
      c.used += bytes;
    }
    // Evictions (even where the copy then found too little room) removed other datasets:
    // refresh what the scheduler sees of this node. A pre-stage copy, or an eviction, is
    // something the pass that decided it did not see.
    if (room || evicted) {
      s.nodes[node].cached.clear();
      for (const auto& [name, e] : c.entries)
        s.nodes[node].cached[name] = e.bytes;
      if (s.holding != nullptr) holding.update_node(node, s.nodes[node].cached);
    }
    if (evicted || (room && !pin)) caches_changed = true;
    return now + ms;
  };

  // Whether the last pass left a reservation standing, and whether it looked at as many jobs
  // behind it as backfill may: with no job ended since, a pass for arrivals alone then gives
  // every queued job the same answer as before (the queue keeps its order, the GPUs are as they
  // were, the reservation cannot move earlier), and an arrival can start only where it fits the
  // free GPUs. Such passes are skipped: under overload they are most of them.
  bool reservation_stands = false;
  bool backfill_depth_reached = false;
  auto fits_free_gpus = [&](const sched::PendingJob& p) {
    int nodes = 0;
    for (const auto& n : s.nodes)
      nodes += std::popcount(n.free) >= p.gpus_per_node;
    return nodes >= p.nodes;
  };

  // The pass looks at a window of the queue's head; the rest waits in `backlog`, in queue order
  // (arrival order: the simulator's jobs share one priority and no fair-share usage, so the
  // queue's order is the order they came in). Once the window holds the reservation and the
  // jobs behind it up to the backfill depth (or, without backfill, the reservation alone), every
  // job beyond it would wait with nothing decided for it, so the window's plan is the whole
  // queue's. A pass whose window ends before that is run again with a larger one. Under
  // overload this makes a pass cost the jobs it can decide on, not the tens of thousands queued.
  std::deque<sched::PendingJob> backlog;
  std::size_t window = options_.incremental ? std::max<std::size_t>(options_.window, 1)
                                            : std::numeric_limits<std::size_t>::max();
  auto refill = [&] {
    while (!backlog.empty() && s.pending.size() < window) {
      s.pending.push_back(std::move(backlog.front()));
      backlog.pop_front();
    }
  };
  // The first wait beyond which the pass decided nothing (the backfill depth used up, or without
  // backfill the jobs behind the reservation), if there is one.
  auto cut_of = [](const sched::Plan& plan) {
    return std::find_if(plan.waits.begin(), plan.waits.end(), [](const sched::Wait& w) {
      return w.why == sched::WaitWhy::backfill_depth || w.why == sched::WaitWhy::strict_order;
    });
  };
  // Whether nothing beyond the window could have changed this plan (see above).
  auto decided_whole_queue = [&](const sched::Plan& plan) {
    if (backlog.empty()) return true;
    if (!plan.reservation) return false;
    return !profile.backfill || cut_of(plan) != plan.waits.end();
  };
  // The next window: the jobs this pass had to look at, and a margin, since the head moves
  // little from one pass to the next (a window too small costs a pass run twice; one too large,
  // jobs sorted and told to wait for nothing).
  auto next_window = [&](const sched::Plan& plan) {
    const std::size_t needed = plan.starts.size() + plan.drops.size() +
                               static_cast<std::size_t>(cut_of(plan) - plan.waits.begin()) + 1;
    return needed + needed / 4 + 64;
  };
  // Gives back to the backlog what lies beyond the window (its order kept).
  auto shrink_to_window = [&] {
    while (s.pending.size() > window) {
      backlog.push_front(std::move(s.pending.back()));
      s.pending.pop_back();
    }
  };

  // The cluster's topologies live as long as the replay: passes share what they work out of them.
  sched::OptionMemo memo;
  sched::OptionMemo* const reuse = options_.incremental ? &memo : nullptr;

  std::size_t next = 0;
  std::int64_t now = 0;
  int stranded = 0;  // free GPUs the reservation's shape left unused since the last pass
  while (next < arrivals.size() || !ends.empty()) {
    const std::int64_t before = now;
    now = ends.empty() ? trace[arrivals[next]].submit_s * 1000 : ends.top().first;
    if (next < arrivals.size()) now = std::min(now, trace[arrivals[next]].submit_s * 1000);
    out.stranded_gpu_ms += (now - before) * stranded;
    // Everything that happens at this moment, then one pass.
    bool changed = false;  // a job ended: GPUs came free
    while (!ends.empty() && ends.top().first == now) {
      changed = true;
      const std::size_t j = ends.top().second;
      ends.pop();
      for (const auto& p : held[j]) {
        s.nodes[p.node].free |= p.gpus;
        if (!trace[j].dataset.empty()) {
          auto& e = caches[p.node].entries;
          if (auto it = e.find(trace[j].dataset); it != e.end()) {
            --it->second.pins;
            it->second.used_ms = now;
          }
        }
      }
      held.erase(j);
      const sched::JobId id = static_cast<sched::JobId>(j) + 1;
      s.running.erase(std::remove_if(s.running.begin(), s.running.end(),
                                     [&](const sched::Allocation& a) { return a.job == id; }),
                      s.running.end());
    }
    while (next < arrivals.size() && trace[arrivals[next]].submit_s * 1000 == now) {
      const std::size_t j = arrivals[next++];
      sched::PendingJob p = pending_job(trace[j], j, now);
      if (!backfill_depth_reached && fits_free_gpus(p)) changed = true;
      backlog.push_back(std::move(p));
      out.jobs[j].submit_ms = now;
    }
    out.most_queued = std::max(out.most_queued, s.pending.size() + backlog.size());
    refill();
    if (s.pending.empty() || (reservation_stands && !changed && !caches_changed)) continue;
    s.now_ms = now;
    sched::Plan plan = sched::plan(s, profile, reuse);
    while (!decided_whole_queue(plan)) {
      window *= 2;
      refill();
      plan = sched::plan(s, profile, reuse);
      ++out.replans;
    }
    ++out.passes;
    if (options_.incremental) window = next_window(plan);
    caches_changed = false;
    // A pass that started jobs decided its reservation before some of them: the next pass,
    // which sees them running, may place it elsewhere, so it is never skipped.
    reservation_stands = plan.reservation.has_value() && plan.starts.empty();
    const auto cut = cut_of(plan);
    backfill_depth_reached = cut != plan.waits.end() && cut->why == sched::WaitWhy::backfill_depth;
    std::unordered_set<sched::JobId> started;
    for (const auto& st : plan.starts) {
      const std::size_t j = static_cast<std::size_t>(st.job - 1);
      const TraceJob& t = trace[j];
      JobOutcome& o = out.jobs[j];
      o.id = t.id;
      o.model_class = classes[j].model_class->name;
      o.class_source = classes[j].source;
      o.gpus = t.gpus;
      o.nodes = static_cast<int>(st.placements.size());
      o.start_ms = now;
      o.duration_s = static_cast<double>(t.duration_s);
      o.best_gbps = best_gbps(t.gpus);
      o.ring_gbps = std::min(st.ring_gbps, model_.network_gbps(spread_of(cluster_, st.placements)));
      o.runtime_s =
          model_.runtime_s(*classes[j].model_class, o.duration_s, o.best_gbps, o.ring_gbps);
      std::int64_t ready = now;
      o.has_dataset = !t.dataset.empty();
      o.cache_hit = o.has_dataset;
      for (const auto& p : st.placements) {
        s.nodes[p.node].free &= ~p.gpus;
        s.running.push_back(
            {st.job, p.node, p.gpus, st.end_ms, st.cpus_per_node, st.memory_per_node_mib});
        if (o.has_dataset)
          ready = std::max(ready, stage(p.node, t.dataset, now, true, o.cache_hit));
      }
      o.staging_s = static_cast<double>(ready - now) / 1000.0;
      o.end_ms = ready + static_cast<std::int64_t>(std::ceil(o.runtime_s * 1000.0));
      held[j] = st.placements;
      ends.push({o.end_ms, j});
      started.insert(st.job);
    }
    // The scheduler's pre-stage decisions: copies start now, in the background.
    for (const auto& ps : plan.prestage) {
      bool ignored = true;
      stage(ps.node, ps.dataset, now, false, ignored);
    }
    if (!plan.starts.empty()) {
      s.pending.erase(
          std::remove_if(s.pending.begin(), s.pending.end(),
                         [&](const sched::PendingJob& p) { return started.contains(p.id); }),
          s.pending.end());
    }
    shrink_to_window();
    stranded = 0;
    if (plan.reservation) {
      int free = 0;
      for (const auto& n : s.nodes)
        free += std::popcount(n.free);
      if (free >= trace[static_cast<std::size_t>(plan.reservation->job - 1)].gpus) stranded = free;
    }
  }
  out.window = options_.incremental ? window : 0;
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return out;
}

}  // namespace sy::sim
