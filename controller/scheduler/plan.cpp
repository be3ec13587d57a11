#include "controller/scheduler/plan.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <compare>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>

#include "common/units.hpp"
#include "controller/scheduler/free_index.hpp"
#include "controller/scheduler/gang_placer.hpp"
#include "controller/scheduler/queue_order.hpp"

namespace sy::sched {
namespace {

std::int64_t time_limit(const PendingJob& j, const Profile& p) {
  return j.time_limit_ms > 0 ? j.time_limit_ms : p.default_time_limit_ms;
}

// How many schedulable nodes have at least k free GPUs, for every k: an O(1) answer to "can
// this gang fit anywhere?", which once the cluster is full is the answer for most of the queue.
class Capacity {
 public:
  Capacity(const Snapshot& s, const std::vector<GpuMask>& free) {
    for (std::size_t n = 0; n < free.size(); ++n) {
      if (!s.nodes[n].schedulable) continue;
      ++by_free_[std::popcount(free[n])];
      most_ = std::max(most_, std::popcount(free[n]));
    }
  }
  void change(GpuMask before, GpuMask after) {
    --by_free_[std::popcount(before)];
    ++by_free_[std::popcount(after)];
    most_ = std::max(most_, std::popcount(after));
  }
  bool may_fit(const PendingJob& j) const {
    int nodes = 0;
    for (int k = std::clamp(j.gpus_per_node, 0, 64); k <= most_; ++k)
      nodes += by_free_[k];
    return nodes >= j.nodes;
  }

 private:
  std::array<int, 65> by_free_{};
  // No node has had more GPUs free than this, so no count above it is held: asked for every
  // job in the queue, the sum stops here rather than at 64.
  int most_ = 0;
};

// When could `job` start if nothing else started? Walks the ends of what holds GPUs now
// (running jobs and this pass's starts), releasing their GPUs in time order.
std::optional<Reservation> reserve(const Snapshot& s, GangPlacer& placer, const PendingJob& job,
                                   std::vector<GpuMask> free, std::vector<Room> room,
                                   std::vector<Allocation> holders) {
  // A min-heap by (end, job): only the holders released before the job fits are ordered.
  auto later = [](const Allocation& a, const Allocation& b) {
    return a.end_ms != b.end_ms ? a.end_ms > b.end_ms : a.job > b.job;
  };
  std::make_heap(holders.begin(), holders.end(), later);
  Capacity capacity(s, free);
  while (!holders.empty()) {
    std::pop_heap(holders.begin(), holders.end(), later);
    const Allocation released = holders.back();
    holders.pop_back();
    const GpuMask before = free[released.node];
    free[released.node] |= released.gpus;
    room[released.node] = give_back(room[released.node], released.cpus, released.memory_mib);
    if (s.nodes[released.node].schedulable) capacity.change(before, free[released.node]);
    // Release everything that ends at the same moment before trying.
    if (!holders.empty() && holders.front().end_ms == released.end_ms) continue;
    if (!capacity.may_fit(job)) continue;
    if (auto choice = placer.place(job, free, room)) {
      return Reservation{job.id, std::max(released.end_ms, s.now_ms), choice->placements,
                         job.label.empty() ? std::to_string(job.id) : job.label};
    }
  }
  return std::nullopt;
}

// What decides whether a job can fit the schedulable nodes at all. reserve() finds no start for
// a job only by releasing every holder, which ends the same (everything free) for every call of
// a pass: jobs alike in these never fit alike, and the walk is done once per kind, not once per
// job (after a restart, with few nodes back, that walk was the whole queue times every holder).
struct Needs {
  int nodes = 1, gpus_per_node = 1, cpus_per_node = 0;
  std::int64_t memory_per_node_mib = 0, min_gpu_memory_mib = 0;
  std::string gpu_model;
  std::vector<std::string> features;
  auto operator<=>(const Needs&) const = default;
};
Needs needs_of(const PendingJob& j) {
  return {
      j.nodes,     j.gpus_per_node, j.cpus_per_node, j.memory_per_node_mib, j.min_gpu_memory_mib,
      j.gpu_model, j.features};
}

// Whether the job may start at all now, whatever is free: its dependencies, begin time and
// array limit. Returns the wait or drop that applies, if any.
struct Eligibility {
  std::optional<Wait> wait;
  std::optional<Drop> drop;
};

Eligibility eligibility(const Snapshot& s, const PendingJob& job,
                        const std::map<JobId, int>& array_active,
                        const std::unordered_set<JobId>& pending) {
  Eligibility e;
  for (const Dependency& d : job.after) {
    auto it = s.outcomes.find(d.job);
    // A waiting job is active; one the snapshot does not know has ended as far as anyone can tell.
    const Outcome o = pending.contains(d.job)  ? Outcome::active
                      : it == s.outcomes.end() ? Outcome::ended
                                               : it->second;
    if (o == Outcome::active) {
      if (!e.wait) e.wait = Wait{job.id, WaitWhy::dependency, d.job, 0, 0};
    } else if (o == Outcome::ended && d.ok_only) {
      e.drop = Drop{job.id, d.job};
      return e;
    }
  }
  if (e.wait) return e;
  if (job.begin_ms > s.now_ms) {
    e.wait = Wait{job.id, WaitWhy::begin_time, 0, job.begin_ms, 0};
    return e;
  }
  if (job.array_id != 0 && job.array_limit > 0) {
    auto it = array_active.find(job.array_id);
    if (it != array_active.end() && it->second >= job.array_limit) {
      e.wait = Wait{job.id, WaitWhy::array_limit, job.array_id, 0, job.array_limit};
    }
  }
  return e;
}

}  // namespace

Plan plan(const Snapshot& s, const Profile& profile, OptionMemo* memo) {
  Plan out;
  out.waits.reserve(s.pending.size());
  GangPlacer placer(s, profile, memo);
  std::vector<GpuMask> free(s.nodes.size());
  std::vector<Room> room(s.nodes.size());
  for (std::size_t i = 0; i < s.nodes.size(); ++i) {
    free[i] = s.nodes[i].schedulable ? s.nodes[i].free : 0;
    room[i] = s.nodes[i].room;
  }
  std::vector<Allocation> holders = s.running;
  std::vector<GpuMask> reserved(s.nodes.size(), 0);
  Room reserved_needs{0, 0};  // the reserved job's CPUs and memory on each of its nodes
  // What a job that would overlap the reservation may use of a reserved node's CPUs and memory.
  auto outside_reservation = [&](int node) {
    return reserved[node]
               ? take(room[node], static_cast<int>(reserved_needs.cpus), reserved_needs.memory_mib)
               : room[node];
  };
  std::vector<int> reserved_nodes;
  // What a job that would still run when the reservation begins may use: kept as starts change
  // it rather than rebuilt for every such job (a scan of every node each time, on a long queue
  // the pass's largest cost).
  std::vector<GpuMask> outside_free(s.nodes.size());
  std::vector<Room> outside_room(s.nodes.size());
  auto follow_outside = [&](int node) {
    outside_free[node] = free[node] & ~reserved[node];
    outside_room[node] = outside_reservation(node);
  };
  std::map<JobId, int> array_active = s.array_active;
  std::unordered_set<JobId> pending_ids;
  for (const auto& j : s.pending) {
    if (!j.after.empty()) {
      for (const auto& p : s.pending)
        pending_ids.insert(p.id);
      break;
    }
  }
  Capacity capacity(s, free);
  std::set<Needs> never_fits;  // kinds of job reserve() found no start for in this pass
  std::optional<FreeIndex> index;
  std::set<int> counts;
  if (profile.topology_aware && profile.use_index) {
    for (const auto& j : s.pending) {
      if (j.nodes == 1) counts.insert(j.gpus_per_node);
    }
    index.emplace(s, placer, counts, free);
  }
  // Per dataset, an index of the nodes that hold all of it, made when a job first needs it: the
  // best of them is the best full holder, so a job reading one dataset need not scan them all.
  std::map<int, FreeIndex> data_index;  // by the placer's dataset id
  auto holds_all = [&](int node, int d) { return placer.held(node, d) >= placer.dataset_size(d); };
  auto full_holders_index = [&](int d) -> FreeIndex& {
    auto it = data_index.find(d);
    if (it == data_index.end()) {
      std::vector<int> members;
      for (int node : placer.holders(d)) {
        if (!reserved[node] && holds_all(node, d)) members.push_back(node);
      }
      it = data_index.try_emplace(d, s, placer, counts, free, &members).first;
    }
    return it->second;
  };
  // The node's free GPUs changed, or it now holds more data: every index that has it follows.
  auto reindex = [&](int node) {
    if (!index || reserved[node]) return;
    index->update(node, free[node]);
    for (auto& [d, idx] : data_index) {
      if (idx.contains(node) || holds_all(node, d)) idx.update(node, free[node]);
    }
  };
  // The best single-node placement among the indexed nodes, the nodes that hold the job's data
  // (the index ranks by what does not depend on the job) and the reserved nodes, which the index
  // leaves out because whether a job may use their reserved GPUs depends on when it ends.
  // `answered` is false when the indexes cannot tell: they rank nodes by their GPUs alone, and
  // where the best lacks the CPUs or memory the job needs, a scan of every node must decide.
  auto place_indexed = [&](const PendingJob& job, bool may_use_reserved,
                           bool& answered) -> std::optional<GangChoice> {
    answered = false;
    std::optional<GangPlacer::NodeOption> best = index->best(job.gpus_per_node);
    if (best && !fits(room[best->node], job)) return std::nullopt;
    if (best) best->score += placer.job_score(best->node, job);
    auto consider = [&](const std::optional<GangPlacer::NodeOption>& o) {
      if (o &&
          (!best || o->score > best->score || (o->score == best->score && o->node < best->node))) {
        best = o;
      }
    };
    if (job.datasets.size() == 1 && placer.dataset_ids(job).size() == 1) {
      // Full holders through their index, partial ones (being staged, say) one by one.
      const int d = placer.dataset_ids(job).front();
      auto full = full_holders_index(d).best(job.gpus_per_node);
      if (full && !fits(room[full->node], job)) return std::nullopt;
      if (full) full->score += placer.job_score(full->node, job);
      consider(full);
      for (int node : placer.partial_holders(d)) {
        if (!reserved[node]) consider(placer.on_node(node, free[node], room[node], job));
      }
    } else if (!job.datasets.empty()) {
      for (int node : placer.holders(job)) {
        if (!reserved[node]) consider(placer.on_node(node, free[node], room[node], job));
      }
    }
    for (int node : reserved_nodes) {
      consider(placer.on_node(node, may_use_reserved ? free[node] : free[node] & ~reserved[node],
                              may_use_reserved ? room[node] : outside_reservation(node), job));
    }
    answered = true;
    if (!best) return std::nullopt;
    return placer.finish({*best}, job);
  };
  // Once the reservation is made, GPUs, CPUs and memory are only taken for the rest of the pass
  // and the reservation stays where it is: a job that found no room leaves none for a later job
  // of the same shape (on the same side of the reservation's start) that may go on any node.
  // Such jobs wait without being placed again; behind a reservation on a long queue they are
  // most of the jobs backfill looks at.
  using Shape =
      std::tuple<int, int, int, std::int64_t, bool>;  // nodes, GPUs, CPUs, memory, ends before
  std::set<Shape> no_room;
  const PendingJob* reserved_job = nullptr;
  int looked_at_after_reservation = 0;
  bool blocked = false;  // without backfill, the first job that waits holds back the rest

  for (std::size_t queued : queue_order(s)) {
    const PendingJob& job = s.pending[queued];
    const Eligibility e = eligibility(s, job, array_active, pending_ids);
    if (e.drop) {
      out.drops.push_back(*e.drop);
      continue;
    }
    if (e.wait) {
      if (e.wait->why == WaitWhy::begin_time && (out.wake_ms == 0 || job.begin_ms < out.wake_ms)) {
        out.wake_ms = job.begin_ms;
      }
      out.waits.push_back(*e.wait);
      continue;
    }
    const std::int64_t end = s.now_ms + time_limit(job, profile);
    if (blocked) {
      out.waits.push_back({job.id, WaitWhy::strict_order, out.reservation->job, 0, 0});
      continue;
    }
    if (out.reservation && ++looked_at_after_reservation > profile.backfill_depth) {
      out.waits.push_back({job.id, WaitWhy::backfill_depth, 0, 0, profile.backfill_depth});
      continue;
    }
    // A job that would still run when the reservation begins must leave its GPUs alone.
    const bool ends_before_reservation = out.reservation && end <= out.reservation->start_ms;
    const Shape shape{job.nodes, job.gpus_per_node, job.cpus_per_node, job.memory_per_node_mib,
                      ends_before_reservation};
    const bool by_shape = out.reservation && !job.constrained();
    std::optional<GangChoice> choice;
    if (!capacity.may_fit(job)) {
      // Not enough free GPUs anywhere: nothing to look at.
    } else if (by_shape && no_room.contains(shape)) {
      // A job of the same shape found no room since the reservation: neither will this one.
    } else {
      bool answered = false;
      if (index && job.nodes == 1 && !job.constrained()) {
        choice = place_indexed(job, !out.reservation || ends_before_reservation, answered);
      }
      if (!answered) {
        choice = out.reservation && !ends_before_reservation
                     ? placer.place(job, outside_free, outside_room)
                     : placer.place(job, free, room);
      }
      if (!choice && by_shape) no_room.insert(shape);
    }
    if (choice) {
      for (const auto& p : choice->placements) {
        const GpuMask before = free[p.node];
        free[p.node] &= ~p.gpus;
        room[p.node] = take(room[p.node], job.cpus_per_node, job.memory_per_node_mib);
        capacity.change(before, free[p.node]);
        holders.push_back(
            {job.id, p.node, p.gpus, end, job.cpus_per_node, job.memory_per_node_mib});
      }
      placer.staged(choice->placements, job);
      for (const auto& p : choice->placements) {
        reindex(p.node);
        if (out.reservation) follow_outside(p.node);
      }
      if (job.array_id != 0) ++array_active[job.array_id];
      out.starts.push_back({job.id, choice->placements, choice->ring_gbps,
                            out.reservation.has_value(), choice->staging_ms, end, choice->scores,
                            job.cpus_per_node, job.memory_per_node_mib});
      continue;
    }
    if (out.reservation) {
      out.waits.push_back(
          {job.id, WaitWhy::resources, out.reservation->job, out.reservation->start_ms, 0});
      continue;
    }
    std::optional<Reservation> r;
    if (!never_fits.contains(needs_of(job))) r = reserve(s, placer, job, free, room, holders);
    if (!r) {
      never_fits.insert(needs_of(job));
      // Even with every running job gone it would not fit the schedulable nodes: nothing to
      // reserve, and no reason to hold back the jobs behind it.
      out.waits.push_back({job.id, WaitWhy::never_fits, 0, 0, 0});
      continue;
    }
    reserved_needs = Room{job.cpus_per_node, job.memory_per_node_mib};
    for (const auto& p : r->placements) {
      reserved[p.node] |= p.gpus;
      reserved_nodes.push_back(p.node);
      if (index) index->remove(p.node);
      for (auto& [d, idx] : data_index)
        idx.remove(p.node);
    }
    out.waits.push_back({job.id, WaitWhy::reserved, 0, r->start_ms, 0});
    out.reservation = std::move(r);
    for (int n = 0; n < static_cast<int>(s.nodes.size()); ++n)
      follow_outside(n);
    reserved_job = &job;
    if (!profile.backfill) blocked = true;
  }
  // Stage the reserved job's data where it is reserved while it waits.
  if (reserved_job != nullptr) {
    for (const auto& p : out.reservation->placements) {
      for (const auto& d : reserved_job->datasets) {
        const int id = placer.dataset_id(d);
        if (id < 0) continue;
        const std::int64_t missing = placer.dataset_size(id) - placer.held(p.node, id);
        if (missing > 0) out.prestage.push_back({reserved_job->id, p.node, d, missing});
      }
    }
  }
  return out;
}

namespace {

std::string gang_text(const PendingJob& j) {
  std::string kind;
  if (!j.gpu_model.empty()) kind += " " + j.gpu_model;
  if (j.min_gpu_memory_mib > 0) kind += " (>= " + format_size_mib(j.min_gpu_memory_mib) + ")";
  std::string text = j.nodes == 1 ? std::to_string(j.gpus_per_node) + kind + " GPUs on one node"
                                  : std::to_string(j.nodes * j.gpus_per_node) + kind + " GPUs (" +
                                        std::to_string(j.nodes) + " nodes x " +
                                        std::to_string(j.gpus_per_node) + ")";
  for (std::size_t i = 0; i < j.features.size(); ++i) {
    text += (i ? "," : " with ") + j.features[i];
  }
  // CPUs and memory are named when they may be what is missing: more than a CPU per GPU, or a
  // set amount of memory.
  std::string beside;
  if (j.cpus_per_node > j.gpus_per_node) beside = std::to_string(j.cpus_per_node) + " CPUs";
  if (j.memory_per_node_mib > 0) {
    beside += (beside.empty() ? "" : " and ") + format_size_mib(j.memory_per_node_mib) + " memory";
  }
  if (!beside.empty()) text += " (with " + beside + (j.nodes > 1 ? " per node)" : ")");
  return text;
}

std::string clock_text(std::int64_t ms) {
  return format_utc_ms(ms).substr(11, 5) + " UTC";
}

std::string where_text(const Snapshot& s, const std::vector<NodePlacement>& placements) {
  std::set<std::string> leaves;
  for (const auto& p : placements)
    leaves.insert(s.nodes[p.node].leaf);
  std::string nodes;
  for (std::size_t i = 0; i < placements.size() && i < 4; ++i) {
    nodes += (i ? "," : "") + s.nodes[placements[i].node].name;
  }
  if (placements.size() > 4) nodes += ",+" + std::to_string(placements.size() - 4);
  if (leaves.size() == 1 && !leaves.begin()->empty()) {
    return "under " + *leaves.begin() + " (" + nodes + ")";
  }
  return "on " + nodes;
}

}  // namespace

std::string explain_wait(const Snapshot& s, const Plan& p, const PendingJob& job, const Wait& w) {
  switch (w.why) {
    case WaitWhy::resources:
      return "waiting for " + gang_text(job) + "; job " +
             (p.reservation && p.reservation->job == w.other ? p.reservation->label
                                                             : std::to_string(w.other)) +
             " is reserved to start at " + clock_text(w.at_ms);
    case WaitWhy::reserved: {
      std::string text =
          "waiting for " + gang_text(job) + "; reserved to start at " + clock_text(w.at_ms);
      if (p.reservation && p.reservation->job == job.id) {
        text += " " + where_text(s, p.reservation->placements);
      }
      return text;
    }
    case WaitWhy::never_fits:
      return "waiting: no " + gang_text(job) + " among the nodes that are up";
    case WaitWhy::strict_order:
      return "waiting behind job " + std::to_string(w.other) + " (strict queue order, no backfill)";
    case WaitWhy::backfill_depth:
      return "waiting: beyond the backfill depth of " + std::to_string(w.count) + " jobs";
    case WaitWhy::dependency: {
      bool ok_only = true;
      for (const auto& d : job.after) {
        if (d.job == w.other) ok_only = d.ok_only;
      }
      return "waiting for job " + std::to_string(w.other) +
             (ok_only ? " to complete (after_ok)" : " to end (after_any)");
    }
    case WaitWhy::begin_time:
      return "waiting: not to start before " + format_utc_ms(w.at_ms).substr(0, 10) + " " +
             format_utc_ms(w.at_ms).substr(11, 5) + " UTC";
    case WaitWhy::array_limit:
      return "waiting: " + std::to_string(w.count) + " tasks of array " + std::to_string(w.other) +
             " already running (its limit)";
  }
  return "waiting";
}

}  // namespace sy::sched
