#pragma once
// JobStore: the job queue's rows in SQLite. It does no transaction control of its own: the
// caller (CommitQueue for writes) decides what commits together. Statements are prepared once.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/job_record.hpp"
#include "common/result.hpp"
#include "controller/scheduler/fair_share.hpp"
#include "controller/store/sqlite.hpp"

namespace sy::store {

struct NewJob {
  JobSpec spec;
  std::string user;
  std::optional<std::string> client_token;  // Idempotency-Key; a repeat finds the first job
  std::int64_t now_ms = 0;
  std::int64_t begin_ms = 0;  // not to start before; 0: at once
};

struct SubmitOutcome {
  JobId id = 0;              // the job, or an array's first task
  std::vector<JobId> tasks;  // an array's tasks, in index order; empty for a plain job
  bool created = true;       // false when client_token named a job submitted before
};

struct AllocationRow {
  JobId job = 0;
  std::string node;
  std::uint64_t gpus = 0;  // bit mask
  std::int64_t end_ms = 0;
  int cpus = 0;  // CPUs and memory it holds on the node besides the GPUs
  std::int64_t memory_mib = 0;
};

// What the scheduler needs of a waiting job: plain columns, no spec to parse.
struct WaitingJob {
  JobId id = 0;
  std::string user;
  std::string account;  // the user when the job names none
  int priority = 0;
  std::int64_t submit_ms = 0;
  int nodes = 1;
  int gpus_per_node = 1;
  std::optional<std::int64_t> time_limit_s;
  std::string reason;
  std::string gpu_model;            // empty: any
  std::int64_t gpu_memory_mib = 0;  // 0: any
  std::vector<std::string> features;
  std::vector<std::string> datasets;
  std::vector<JobId> after_ok, after_any;
  std::int64_t begin_ms = 0;
  JobId array_id = 0;
  int array_index = 0;
  int array_limit = 0;
  int cpus_per_gpu = 1;
  std::int64_t memory_per_gpu_mib = 0;  // 0: not asked for
};

// What the scheduler keeps of one job (JobStore::scheduling_rows): its columns as a waiting job
// has them, whatever its state, when it started and the GPUs it holds.
struct SchedulingRow {
  JobState state = JobState::pending;
  WaitingJob job;
  std::optional<std::int64_t> start_ms;
  std::vector<AllocationRow> allocations;
};

// What the dashboard shows of a job holding GPUs: plain columns, no spec to parse.
struct PlacedJobRow {
  JobId id = 0;
  std::string label;  // as people name it: "12" or an array task's "12_3"
  std::string name, user;
  JobState state = JobState::staging;
  std::string ring_link;            // empty: none (one GPU)
  std::optional<double> ring_gbps;  // none: unlimited (one GPU) or not placed by a profile
};

// Where a job another job depends on stands.
struct JobOutcome {
  JobId id = 0;
  JobState state = JobState::pending;
};

struct JobFilter {
  std::set<JobState> states;  // empty: every state
  std::optional<std::string> user;
  JobId after_id = 0;  // for paging: only ids greater than this
  int limit = 1000;
};

class JobStore {
 public:
  // `db` must outlive the store and have been migrated.
  static Result<JobStore, StoreError> open(Db& db);

  // Inserts the job, or one task per index for an array. Dependencies must name existing jobs
  // (invalid otherwise, with the field).
  Result<SubmitOutcome, StoreError> insert(const NewJob& job);
  // The task of an array with this index (Slurm's "12_3"), if any.
  Result<std::optional<JobId>, StoreError> find_task(JobId array_id, int index);
  // Every task of an array, by index.
  Result<std::vector<JobId>, StoreError> array_tasks(JobId array_id);
  // nullopt when no job has that id. Events are included.
  Result<std::optional<JobRecord>, StoreError> get(JobId id);
  // Ordered by id. Events are not included.
  Result<std::vector<JobRecord>, StoreError> list(const JobFilter& filter);
  // The RUNNING jobs holding GPUs of `node`, by id (through allocations_by_node: an agent's
  // registration costs its own jobs, not the cluster's).
  Result<std::vector<JobRecord>, StoreError> running_on(const std::string& node);
  // Moves the job through the state machine, recording the event. not_found for an unknown id,
  // conflict (with the state machine's words) for an illegal change.
  // Ending (or requeueing) a job releases its allocations in the same transaction.
  Result<JobRecord, StoreError> apply_event(JobId id, JobEvent event, const std::string& reason,
                                            std::int64_t now_ms,
                                            std::optional<int> exit_code = std::nullopt);

  // A scheduling decision: PENDING/REQUEUED -> STAGING, holding `allocations`. conflict when the
  // job is no longer waiting (cancelled since the pass read it), so a stale decision is dropped.
  Result<void, StoreError> start_job(JobId id, const std::vector<AllocationRow>& allocations,
                                     const std::string& placement_json, std::int64_t now_ms);
  // Why a waiting job waits; written only when it changed.
  Result<void, StoreError> set_reason(JobId id, const std::string& reason);
  Result<std::vector<AllocationRow>, StoreError> allocations();
  // PENDING and REQUEUED jobs, by id.
  Result<std::vector<WaitingJob>, StoreError> waiting();
  // These jobs as the scheduler keeps them (those that exist), by id lookups: the scheduler's
  // queue is read whole once and then job by job, as commits move them.
  Result<std::vector<SchedulingRow>, StoreError> scheduling_rows(const std::vector<JobId>& ids);
  // Every job waiting, staging or running, by id, in two reads.
  Result<std::vector<SchedulingRow>, StoreError> unfinished_scheduling_rows();
  // The states of these jobs (those that exist).
  Result<std::vector<JobOutcome>, StoreError> states_of(const std::vector<JobId>& ids);
  // Tasks staging or running, per array.
  Result<std::map<JobId, int>, StoreError> array_active();
  // Every STAGING or RUNNING job, by id, as the dashboard draws it on its GPUs.
  Result<std::vector<PlacedJobRow>, StoreError> placed_jobs();
  // How many jobs that have not ended are in each state (states with none left out), of one
  // user or of everyone: the dashboard's totals.
  Result<std::map<JobState, std::int64_t>, StoreError> count_unfinished(
      const std::optional<std::string>& user);
  // How many jobs are in each state (every state present, 0 where none): /metrics.
  Result<std::map<JobState, std::int64_t>, StoreError> count_by_state();
  // Jobs that started at or after `since_ms`, for fair share: (account or user, GPUs, start, end).
  Result<std::vector<sched::UsageRecord>, StoreError> usage_since(std::int64_t since_ms);

  // Fair share, incrementally: every run that ends (or is requeued) is folded into the ledger in
  // the transaction that ends it, decayed with this half-life.
  void set_usage_half_life(std::int64_t half_life_ms) { usage_half_life_ms_ = half_life_ms; }
  Result<sched::Ledger, StoreError> usage_ledger();
  // What the RUNNING jobs have used so far is not in the ledger yet: their runs.
  Result<std::vector<sched::UsageRecord>, StoreError> running_usage();
  // Fills an empty ledger from the jobs that ended within ten half-lives of `now_ms` (the
  // first start after migration 0009). False when the ledger held something already.
  Result<bool, StoreError> seed_usage_ledger(std::int64_t now_ms);

  // Retention: up to `limit` jobs that ended before `before_ms`, with their events, in id order,
  // and no job still waiting or running depends on. `keep` sees each (to archive it) before
  // its rows are deleted; allocation audit rows older than `before_ms` go too (but those of a
  // job still holding GPUs). The jobs pruned (none: nothing is left to prune).
  using Keep = std::function<Result<void, StoreError>(const std::vector<JobRecord>&)>;
  Result<std::vector<JobId>, StoreError> prune_ended(std::int64_t before_ms, std::size_t limit,
                                                     const Keep& keep);

  // The jobs whose state this store changed since the last call (each event recorded adds its
  // job; one rolled back with its operation may be among them): the commit queue's change feed.
  std::vector<JobId> take_changed() { return std::exchange(changed_, {}); }

 private:
  explicit JobStore(Db& db) : db_(&db) {}
  Result<JobRecord, StoreError> row_to_record(const Statement& row) const;
  Result<std::vector<JobRecord>, StoreError> records(Statement& stmt) const;  // every row
  Result<JobId, StoreError> insert_one(const NewJob& job, std::optional<JobId> array_id,
                                       std::optional<int> array_index, bool with_token);
  // A recurring job ended: queue its next run, due at the first period boundary after now.
  Result<void, StoreError> queue_next_run(const JobRecord& ended, std::int64_t now_ms);
  Result<void, StoreError> add_event(JobId id, std::int64_t at_ms, std::string_view event,
                                     std::optional<JobState> from, JobState to,
                                     const std::string& reason);
  Result<void, StoreError> fold_usage(std::string_view kind, const std::string& name,
                                      double gpu_seconds, std::int64_t ended_ms);

  Db* db_;
  std::int64_t usage_half_life_ms_ = sched::kDefaultHalfLifeMs;
  std::vector<JobId> changed_;
  Statement find_token_;
  Statement insert_job_;
  Statement insert_event_;
  Statement get_job_;
  Statement get_events_;
  Statement update_state_;
  Statement insert_allocation_;
  Statement delete_allocations_;
  Statement set_reason_;
  Statement set_placement_;
  Statement list_allocations_;
  Statement set_array_id_;
  Statement find_task_;
  Statement job_exists_;
  Statement get_ledger_;
  Statement put_ledger_;
};

// A read-only connection of its own and the job store on it, for one reader (an API, the
// metrics): SQLite connections are not shared between threads.
struct JobReads {
  std::unique_ptr<Db> db;
  std::unique_ptr<JobStore> jobs;
};
Result<JobReads, StoreError> open_job_reads(const std::string& db_path);

}  // namespace sy::store
