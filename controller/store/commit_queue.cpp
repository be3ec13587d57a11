#include "controller/store/commit_queue.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace sy::store {

Result<std::unique_ptr<CommitQueue>, StoreError> CommitQueue::start(
    Db db, std::size_t max_batch, std::int64_t usage_half_life_ms) {
  std::unique_ptr<CommitQueue> q(new CommitQueue(std::move(db), max_batch));
  auto jobs = JobStore::open(q->db_);
  if (!jobs) return fail(std::move(jobs).error());
  q->jobs_ = std::make_unique<JobStore>(std::move(jobs).value());
  q->jobs_->set_usage_half_life(usage_half_life_ms);
  auto nodes = NodeStore::open(q->db_);
  if (!nodes) return fail(std::move(nodes).error());
  q->nodes_ = std::make_unique<NodeStore>(std::move(nodes).value());
  auto datasets = DatasetStore::open(q->db_);
  if (!datasets) return fail(std::move(datasets).error());
  q->datasets_ = std::make_unique<DatasetStore>(std::move(datasets).value());
  q->writer_ = std::thread([raw = q.get()] { raw->run(); });
  return q;
}

CommitQueue::CommitQueue(Db db, std::size_t max_batch)
    : db_(std::move(db)), max_batch_(max_batch == 0 ? 1 : max_batch) {}

CommitQueue::~CommitQueue() {
  stop();
}

void CommitQueue::submit(Apply apply, Done done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      queue_.emplace_back(std::move(apply), std::move(done));
      wake_.notify_one();
      return;
    }
  }
  done(fail(StoreError::internal("the controller is shutting down")));
}

void CommitQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
}

void CommitQueue::set_on_jobs_changed(const void* subscriber, JobsChanged f) {
  std::lock_guard<std::mutex> lock(feed_mutex_);
  if (f) {
    on_jobs_changed_[subscriber] = std::move(f);
  } else {
    on_jobs_changed_.erase(subscriber);
  }
}

CommitStats CommitQueue::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CommitQueue::run() {
  std::vector<std::pair<Apply, Done>> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been committed
      if (queue_.size() <= max_batch_) {
        batch.swap(queue_);
      } else {
        batch.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.begin() + static_cast<long>(max_batch_)));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(max_batch_));
      }
    }
    commit_batch(batch);
    batch.clear();
  }
}

void CommitQueue::commit_batch(std::vector<std::pair<Apply, Done>>& batch) {
  std::vector<Result<void, StoreError>> outcomes;
  outcomes.reserve(batch.size());
  auto begin = db_.exec("BEGIN IMMEDIATE");
  if (begin) {
    Stores stores{*jobs_, *nodes_, *datasets_};
    for (auto& [apply, done] : batch) {
      (void)db_.exec("SAVEPOINT op");
      auto r = apply(stores);
      // A failed operation leaves nothing behind; the rest of the batch still commits.
      if (!r) (void)db_.exec("ROLLBACK TO op");
      (void)db_.exec("RELEASE op");
      outcomes.push_back(std::move(r));
    }
  }
  Result<void, StoreError> committed = begin ? db_.exec("COMMIT") : std::move(begin);
  if (!committed) {
    SY_LOG(error, "store") << "batch of " << batch.size()
                           << " writes not committed: " << committed.error().message;
    (void)db_.exec("ROLLBACK");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.batches++;
    stats_.operations += batch.size();
    if (batch.size() > stats_.largest_batch) stats_.largest_batch = batch.size();
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Done& done = batch[i].second;
    if (!committed) {
      done(committed);
    } else {
      done(std::move(outcomes[i]));
    }
  }
  std::vector<JobId> changed = jobs_->take_changed();
  if (!committed || changed.empty()) return;
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  std::lock_guard<std::mutex> lock(feed_mutex_);
  for (const auto& [subscriber, f] : on_jobs_changed_)
    f(changed);
}

}  // namespace sy::store
