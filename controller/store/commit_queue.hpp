#pragma once
// CommitQueue: group commit. Writes from every client queue here; one writer thread applies
// all that are waiting in a single SQLite transaction (each in its own savepoint, so one bad
// write does not spoil the batch), commits once, and only then tells each caller its outcome.
// So a submit is acknowledged only after it is on disk, and many submits share one fsync.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "controller/store/dataset_store.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/node_store.hpp"
#include "controller/store/sqlite.hpp"

namespace sy::store {

struct CommitStats {
  std::uint64_t batches = 0;
  std::uint64_t operations = 0;
  std::uint64_t largest_batch = 0;
};

// What a write may touch, all on the writer's connection.
struct Stores {
  JobStore& jobs;
  NodeStore& nodes;
  DatasetStore& datasets;
};

class CommitQueue {
 public:
  // Runs inside the batch's transaction on the writer thread. It may keep its own results
  // (captured state) for `done` to report.
  using Apply = std::function<Result<void, StoreError>(Stores&)>;
  // Runs on the writer thread after COMMIT: ok when both the operation and the commit held;
  // otherwise the operation's own error, or the commit's. Must not block.
  using Done = std::function<void(Result<void, StoreError>)>;

  // Takes ownership of a migrated read-write connection. Ended runs are folded into fair
  // share with `usage_half_life_ms` (JobStore::set_usage_half_life).
  static Result<std::unique_ptr<CommitQueue>, StoreError> start(
      Db db, std::size_t max_batch, std::int64_t usage_half_life_ms = sched::kDefaultHalfLifeMs);
  ~CommitQueue();  // stop()s

  // Queues one write. After stop() the write is refused at once (done gets an error).
  void submit(Apply apply, Done done);
  // The change feed: after each committed batch whose writes moved jobs through their states,
  // those jobs (each once), on the writer thread after the batch's `done`s. Must not block.
  // One function per subscriber (the scheduler and the job runner each keep their own copy of
  // the jobs); an empty function unsubscribes, after any call under way.
  using JobsChanged = std::function<void(const std::vector<JobId>&)>;
  void set_on_jobs_changed(const void* subscriber, JobsChanged f);
  // Finishes every queued write, then ends the writer thread. Idempotent.
  void stop();
  CommitStats stats() const;

 private:
  CommitQueue(Db db, std::size_t max_batch);
  void run();
  void commit_batch(std::vector<std::pair<Apply, Done>>& batch);

  Db db_;
  std::unique_ptr<JobStore> jobs_;
  std::unique_ptr<NodeStore> nodes_;
  std::unique_ptr<DatasetStore> datasets_;
  std::size_t max_batch_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::pair<Apply, Done>> queue_;
  bool stopping_ = false;
  CommitStats stats_;
  std::mutex feed_mutex_;  // held while the feed is called
  std::map<const void*, JobsChanged> on_jobs_changed_;
  std::thread writer_;
};

}  // namespace sy::store
