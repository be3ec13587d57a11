#include "controller/runtime/queue_state.hpp"

#include <utility>

#include "controller/runtime/snapshot_builder.hpp"

namespace sy::runtime {

void QueueState::mark(const std::vector<JobId>& ids) {
  std::lock_guard<std::mutex> lock(mutex_);
  marked_.insert(marked_.end(), ids.begin(), ids.end());
}

Result<void, store::StoreError> QueueState::refresh(store::JobStore& reads) {
  std::vector<JobId> ids;
  bool whole = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ids.swap(marked_);
    whole = std::exchange(whole_, false);
  }
  // Jobs marked after this point are read again next time: reading one twice is harmless.
  auto rows = whole ? reads.unfinished_scheduling_rows() : reads.scheduling_rows(ids);
  if (!rows) {
    std::lock_guard<std::mutex> lock(mutex_);
    whole_ = true;
    return fail(std::move(rows).error());
  }
  if (whole) {
    waiting_.clear();
    placed_.clear();
  } else {
    for (JobId id : ids)
      forget(id);  // ended, pruned or moved: what the store has now is in `rows`
  }
  for (auto& row : rows.value())
    keep(std::move(row));
  return {};
}

void QueueState::forget(JobId id) {
  waiting_.erase(id);
  placed_.erase(id);
}

void QueueState::keep(store::SchedulingRow row) {
  const JobId id = row.job.id;
  forget(id);
  switch (row.state) {
    case JobState::pending:
    case JobState::requeued:
      waiting_[id] = {pending_job(row.job), std::move(row.job.reason)};
      break;
    case JobState::staging:
    case JobState::running:
      placed_[id] = {row.state,
                     std::move(row.job.account),
                     std::move(row.job.user),
                     row.job.nodes * row.job.gpus_per_node,
                     row.start_ms,
                     row.job.array_id,
                     row.job.array_limit,
                     std::move(row.allocations)};
      break;
    default:
      break;  // ended: holds nothing, waits for nothing
  }
}

std::vector<sched::PendingJob> QueueState::pending() const {
  std::vector<sched::PendingJob> out;
  out.reserve(waiting_.size());
  for (const auto& [id, w] : waiting_)
    out.push_back(w.job);
  return out;
}

const std::string& QueueState::reason(JobId id) const {
  static const std::string none;
  auto it = waiting_.find(id);
  return it == waiting_.end() ? none : it->second.reason;
}

void QueueState::set_reason(JobId id, std::string reason) {
  if (auto it = waiting_.find(id); it != waiting_.end()) it->second.reason = std::move(reason);
}

QueueState::Held QueueState::held() const {
  Held out;
  out.allocations.reserve(placed_.size());
  for (const auto& [id, p] : placed_) {
    out.allocations.insert(out.allocations.end(), p.allocations.begin(), p.allocations.end());
    if (p.array_id != 0 && p.array_limit > 0) out.array_active[p.array_id]++;
    if (p.state == JobState::running && p.start_ms) {
      out.running_usage.push_back({p.account, p.user, p.gpus, *p.start_ms, std::nullopt});
    }
  }
  return out;
}

}  // namespace sy::runtime
