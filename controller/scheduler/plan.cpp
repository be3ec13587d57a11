#include "controller/scheduler/plan.hpp"

#include <algorithm>
#include <bit>

#include "common/units.hpp"
#include "controller/scheduler/gang_placer.hpp"
#include "controller/scheduler/queue_order.hpp"

namespace sy::sched {
namespace {

std::int64_t time_limit(const PendingJob& j, const Profile& p) {
  return j.time_limit_ms > 0 ? j.time_limit_ms : p.default_time_limit_ms;
}

std::string gang_text(const PendingJob& j) {
  return j.nodes == 1
             ? std::to_string(j.gpus_per_node) + " GPUs on one node"
             : std::to_string(j.nodes) + " nodes x " + std::to_string(j.gpus_per_node) + " GPUs";
}

std::string node_list(const Snapshot& s, const std::vector<NodePlacement>& placements) {
  std::string out;
  for (std::size_t i = 0; i < placements.size() && i < 4; ++i) {
    out += (i ? "," : "") + s.nodes[placements[i].node].name;
  }
  if (placements.size() > 4) out += ",+" + std::to_string(placements.size() - 4);
  return out;
}

void take(std::vector<GpuMask>& free, const std::vector<NodePlacement>& placements) {
  for (const auto& p : placements)
    free[p.node] &= ~p.gpus;
}

// When could `job` start if nothing else started? Walks the ends of what holds GPUs now
// (running jobs and this pass's starts), releasing their GPUs in time order.
std::optional<Reservation> reserve(const Snapshot& s, GangPlacer& placer, const PendingJob& job,
                                   std::vector<GpuMask> free, std::vector<Allocation> holders) {
  std::sort(holders.begin(), holders.end(), [](const Allocation& a, const Allocation& b) {
    return a.end_ms != b.end_ms ? a.end_ms < b.end_ms : a.job < b.job;
  });
  for (std::size_t i = 0; i < holders.size(); ++i) {
    free[holders[i].node] |= holders[i].gpus;
    // Release everything that ends at the same moment before trying.
    if (i + 1 < holders.size() && holders[i + 1].end_ms == holders[i].end_ms) continue;
    if (auto choice = placer.place(job, free)) {
      return Reservation{job.id, std::max(holders[i].end_ms, s.now_ms), choice->placements};
    }
  }
  return std::nullopt;
}

}  // namespace

Plan plan(const Snapshot& s, const Profile& profile) {
  Plan out;
  GangPlacer placer(s, profile);
  std::vector<GpuMask> free(s.nodes.size());
  for (std::size_t i = 0; i < s.nodes.size(); ++i)
    free[i] = s.nodes[i].schedulable ? s.nodes[i].free : 0;
  std::vector<Allocation> holders = s.running;
  std::vector<GpuMask> reserved(s.nodes.size(), 0);
  int looked_at_after_reservation = 0;
  bool blocked = false;  // without backfill, the first job that waits holds back the rest

  for (std::size_t index : queue_order(s)) {
    const PendingJob& job = s.pending[index];
    const std::int64_t end = s.now_ms + time_limit(job, profile);
    if (blocked) {
      out.waits.push_back({job.id, "waiting behind job " +
                                       std::to_string(out.reservation ? out.reservation->job : 0) +
                                       " (strict queue order, no backfill)"});
      continue;
    }
    if (out.reservation) {
      if (++looked_at_after_reservation > profile.backfill_depth) {
        out.waits.push_back({job.id, "waiting: beyond the backfill depth of " +
                                         std::to_string(profile.backfill_depth) + " jobs"});
        continue;
      }
    }
    // A job that would still run when the reservation begins must leave its GPUs alone.
    std::vector<GpuMask> usable = free;
    const bool ends_before_reservation = out.reservation && end <= out.reservation->start_ms;
    if (out.reservation && !ends_before_reservation) {
      for (std::size_t n = 0; n < usable.size(); ++n)
        usable[n] &= ~reserved[n];
    }
    if (auto choice = placer.place(job, usable)) {
      take(free, choice->placements);
      for (const auto& p : choice->placements)
        holders.push_back({job.id, p.node, p.gpus, end});
      out.starts.push_back({job.id, choice->placements, choice->ring_gbps,
                            out.reservation.has_value(), choice->scores});
      continue;
    }
    if (out.reservation) {
      out.waits.push_back(
          {job.id, "waiting for " + gang_text(job) + "; job " +
                       std::to_string(out.reservation->job) + " is reserved to start at " +
                       format_utc_ms(out.reservation->start_ms).substr(11, 8) + " UTC"});
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
    for (const auto& p : r->placements)
      reserved[p.node] |= p.gpus;
    out.waits.push_back({job.id, "waiting for " + gang_text(job) + "; reserved to start at " +
                                     format_utc_ms(r->start_ms).substr(11, 8) + " UTC on " +
                                     node_list(s, r->placements)});
    out.reservation = std::move(r);
    if (!profile.backfill) blocked = true;
  }
  return out;
}

}  // namespace sy::sched
