#include "controller/scheduler/plan.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <set>

#include "common/units.hpp"
#include "controller/scheduler/free_index.hpp"
#include "controller/scheduler/gang_placer.hpp"
#include "controller/scheduler/queue_order.hpp"

namespace sy::sched {
namespace {

std::int64_t time_limit(const PendingJob& j, const Profile& p) {
  return j.time_limit_ms > 0 ? j.time_limit_ms : p.default_time_limit_ms;
}

std::string gang_text(const PendingJob& j) {
  std::string kind;
  if (!j.gpu_model.empty()) kind += " " + j.gpu_model;
  if (j.min_gpu_memory_mib > 0) kind += " (>= " + format_size_mib(j.min_gpu_memory_mib) + ")";
  return j.nodes == 1 ? std::to_string(j.gpus_per_node) + kind + " GPUs on one node"
                      : std::to_string(j.nodes) + " nodes x " + std::to_string(j.gpus_per_node) +
                            kind + " GPUs";
}

std::string node_list(const Snapshot& s, const std::vector<NodePlacement>& placements) {
  std::string out;
  for (std::size_t i = 0; i < placements.size() && i < 4; ++i) {
    out += (i ? "," : "") + s.nodes[placements[i].node].name;
  }
  if (placements.size() > 4) out += ",+" + std::to_string(placements.size() - 4);
  return out;
}

// How many schedulable nodes have at least k free GPUs, for every k: an O(1) answer to "can
// this gang fit anywhere?", which once the cluster is full is the answer for most of the queue.
class Capacity {
 public:
  Capacity(const Snapshot& s, const std::vector<GpuMask>& free) {
    for (std::size_t n = 0; n < free.size(); ++n) {
      if (s.nodes[n].schedulable) ++by_free_[std::popcount(free[n])];
    }
  }
  void change(GpuMask before, GpuMask after) {
    --by_free_[std::popcount(before)];
    ++by_free_[std::popcount(after)];
  }
  bool may_fit(const PendingJob& j) const {
    int nodes = 0;
    for (int k = std::clamp(j.gpus_per_node, 0, 64); k <= 64; ++k)
      nodes += by_free_[k];
    return nodes >= j.nodes;
  }

 private:
  std::array<int, 65> by_free_{};
};

// When could `job` start if nothing else started? Walks the ends of what holds GPUs now
// (running jobs and this pass's starts), releasing their GPUs in time order.
std::optional<Reservation> reserve(const Snapshot& s, GangPlacer& placer, const PendingJob& job,
                                   std::vector<GpuMask> free, std::vector<Allocation> holders) {
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
    if (s.nodes[released.node].schedulable) capacity.change(before, free[released.node]);
    // Release everything that ends at the same moment before trying.
    if (!holders.empty() && holders.front().end_ms == released.end_ms) continue;
    if (!capacity.may_fit(job)) continue;
    if (auto choice = placer.place(job, free)) {
      return Reservation{job.id, std::max(released.end_ms, s.now_ms), choice->placements};
    }
  }
  return std::nullopt;
}

}  // namespace

Plan plan(const Snapshot& s, const Profile& profile) {
  Plan out;
  GangPlacer placer(s, profile);
  std::vector<GpuMask> free(s.nodes.size());
  for (std::size_t i = 0; i < s.nodes.size(); ++i) {
    free[i] = s.nodes[i].schedulable ? s.nodes[i].free : 0;
  }
  std::vector<Allocation> holders = s.running;
  std::vector<GpuMask> reserved(s.nodes.size(), 0);
  std::vector<int> reserved_nodes;
  Capacity capacity(s, free);
  std::optional<FreeIndex> index;
  if (profile.topology_aware && profile.use_index) {
    std::set<int> counts;
    for (const auto& j : s.pending) {
      if (j.nodes == 1) counts.insert(j.gpus_per_node);
    }
    index.emplace(s, placer, counts, free);
  }
  // The best single-node placement among the indexed nodes and the reserved ones, which the
  // index leaves out because whether a job may use their reserved GPUs depends on when it ends.
  auto place_indexed = [&](const PendingJob& job,
                           bool may_use_reserved) -> std::optional<GangChoice> {
    std::optional<GangPlacer::NodeOption> best = index->best(job.gpus_per_node);
    for (int node : reserved_nodes) {
      const GpuMask mask = may_use_reserved ? free[node] : free[node] & ~reserved[node];
      auto o = placer.on_node(node, mask, job);
      if (o &&
          (!best || o->score > best->score || (o->score == best->score && o->node < best->node))) {
        best = o;
      }
    }
    if (!best) return std::nullopt;
    return placer.finish({*best});
  };
  std::string behind_reservation;  // "; job K is reserved to start at ...": formatted once
  int looked_at_after_reservation = 0;
  bool blocked = false;  // without backfill, the first job that waits holds back the rest

  for (std::size_t queued : queue_order(s)) {
    const PendingJob& job = s.pending[queued];
    const std::int64_t end = s.now_ms + time_limit(job, profile);
    if (blocked) {
      out.waits.push_back({job.id, "waiting behind job " +
                                       std::to_string(out.reservation ? out.reservation->job : 0) +
                                       " (strict queue order, no backfill)"});
      continue;
    }
    if (out.reservation && ++looked_at_after_reservation > profile.backfill_depth) {
      out.waits.push_back({job.id, "waiting: beyond the backfill depth of " +
                                       std::to_string(profile.backfill_depth) + " jobs"});
      continue;
    }
    // A job that would still run when the reservation begins must leave its GPUs alone.
    const bool ends_before_reservation = out.reservation && end <= out.reservation->start_ms;
    std::optional<GangChoice> choice;
    if (!capacity.may_fit(job)) {
      // Not enough free GPUs anywhere: nothing to look at.
    } else if (index && job.nodes == 1 && !job.constrained()) {
      choice = place_indexed(job, !out.reservation || ends_before_reservation);
    } else {
      std::vector<GpuMask> usable = free;
      if (out.reservation && !ends_before_reservation) {
        for (std::size_t n = 0; n < usable.size(); ++n)
          usable[n] &= ~reserved[n];
      }
      choice = placer.place(job, usable);
    }
    if (choice) {
      for (const auto& p : choice->placements) {
        const GpuMask before = free[p.node];
        free[p.node] &= ~p.gpus;
        capacity.change(before, free[p.node]);
        if (index && !reserved[p.node]) index->update(p.node, free[p.node]);
        holders.push_back({job.id, p.node, p.gpus, end});
      }
      out.starts.push_back({job.id, choice->placements, choice->ring_gbps,
                            out.reservation.has_value(), choice->scores});
      continue;
    }
    if (out.reservation) {
      out.waits.push_back({job.id, "waiting for " + gang_text(job) + behind_reservation});
      continue;
    }
    auto r = reserve(s, placer, job, free, holders);
    if (!r) {
      // Even with every running job gone it would not fit the schedulable nodes: nothing to
      // reserve, and no reason to hold back the jobs behind it.
      out.waits.push_back(
          {job.id, "waiting: no " + gang_text(job) + " among the nodes that are up"});
      continue;
    }
    for (const auto& p : r->placements) {
      reserved[p.node] |= p.gpus;
      reserved_nodes.push_back(p.node);
      if (index) index->remove(p.node);
    }
    out.waits.push_back({job.id, "waiting for " + gang_text(job) + "; reserved to start at " +
                                     format_utc_ms(r->start_ms).substr(11, 8) + " UTC on " +
                                     node_list(s, r->placements)});
    behind_reservation = "; job " + std::to_string(r->job) + " is reserved to start at " +
                         format_utc_ms(r->start_ms).substr(11, 8) + " UTC";
    out.reservation = std::move(r);
    if (!profile.backfill) blocked = true;
  }
  return out;
}

}  // namespace sy::sched
