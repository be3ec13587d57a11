#pragma once
// QueueState: the scheduler's copy of what a pass reads of the queue: the waiting jobs (as the
// pass takes them), the GPUs, CPUs and memory staging and running jobs hold, and what running
// jobs have used so far. It is read whole once (and again after a failed read), then job by job
// as the commit queue's change feed names the jobs a commit moved, so a pass over 100,000
// waiting jobs costs the jobs that changed since the last one, not a read of the table.
//
// The loop's thread owns it; only mark() may be called from another (the commit queue's writer).

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/job_record.hpp"
#include "common/result.hpp"
#include "controller/scheduler/fair_share.hpp"
#include "controller/scheduler/snapshot.hpp"
#include "controller/store/job_store.hpp"

namespace sy::runtime {

class QueueState {
 public:
  // These jobs moved (a commit's change feed, or the scheduler's own decisions): read them
  // again before the next pass. Thread-safe.
  void mark(const std::vector<JobId>& ids);
  // Brings the copy up to date: whole the first time (or after a read failed), else the jobs
  // marked since. On an error the copy is read whole next time.
  Result<void, store::StoreError> refresh(store::JobStore& reads);

  // The waiting jobs, by id, as the snapshot takes them.
  std::vector<sched::PendingJob> pending() const;
  std::size_t waiting_count() const { return waiting_.size(); }
  // The reason the store holds for a waiting job ("" when none or not waiting).
  const std::string& reason(JobId id) const;
  // What a pass committed: the store holds this reason now.
  void set_reason(JobId id, std::string reason);
  // What the staging and running jobs hold, gathered in one walk over them (a pass's largest
  // read at 80,000 running jobs).
  struct Held {
    std::vector<store::AllocationRow> allocations;  // by job
    std::map<JobId, int> array_active;  // tasks staging or running, per array with a limit
    std::vector<sched::UsageRecord> running_usage;  // the RUNNING jobs' runs so far (fair share)
  };
  Held held() const;

 private:
  struct Waiting {
    sched::PendingJob job;
    std::string reason;
  };
  struct Placed {
    JobState state = JobState::staging;
    std::string account, user;
    int gpus = 0;
    std::optional<std::int64_t> start_ms;
    JobId array_id = 0;
    int array_limit = 0;
    std::vector<store::AllocationRow> allocations;
  };
  void forget(JobId id);
  void keep(store::SchedulingRow row);

  std::mutex mutex_;  // guards marked_ and whole_
  std::vector<JobId> marked_;
  bool whole_ = true;  // the next refresh reads everything
  std::map<JobId, Waiting> waiting_;
  std::map<JobId, Placed> placed_;
};

}  // namespace sy::runtime
