#pragma once
// SchedulingLoop: runs the pure scheduling pass whenever something changed (a submit, a cancel,
// a node joining, leaving or draining) and on a slow timer, one pass at a time: requests that
// arrive during a pass are coalesced into one more. Decisions are committed in one transaction:
// started jobs go STAGING with their GPU allocations, waiting jobs get their reason, jobs whose
// dependency can never be met are cancelled. A pass is also due when a job's begin time comes.
//
// Passes run on the loop's own thread (with its timers), so that the API and the agents'
// connections on the io thread never wait for one. The loop keeps the queue in memory
// (QueueState: read whole at start, then the jobs the commit queue's change feed names); a pass
// takes an immutable snapshot of it, decides over that, and hands its decisions to the commit
// queue.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "controller/nodes/node_registry.hpp"
#include "controller/runtime/queue_state.hpp"
#include "controller/scheduler/plan.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/dataset_store.hpp"
#include "controller/store/job_store.hpp"

namespace sy::runtime {

class SchedulingLoop {
 public:
  using Clock = std::function<std::int64_t()>;
  // `reads` and `datasets` share a read connection used only by this loop. Subscribes to
  // `writes`' change feed from start() to stop().
  SchedulingLoop(store::CommitQueue& writes, store::JobStore& reads, store::DatasetStore& datasets,
                 nodes::NodeRegistry& registry, sched::Profile profile,
                 std::int64_t fair_share_half_life_ms, Clock now_ms);
  ~SchedulingLoop();
  SchedulingLoop(const SchedulingLoop&) = delete;
  SchedulingLoop& operator=(const SchedulingLoop&) = delete;

  // After each pass's decisions are committed: the (node, dataset) pairs to stage ahead of
  // the job reserved to start next. Started jobs are STAGING by then.
  using Committed = std::function<void(std::vector<std::pair<std::string, std::string>> prestage)>;
  void set_on_committed(Committed f) { on_committed_ = std::move(f); }

  // Each pass's duration in seconds, from reading its input to committing its decisions
  // (called on the commit queue's writer thread).
  using PassTimed = std::function<void(double seconds)>;
  void set_on_pass(PassTimed f) { on_pass_ = std::move(f); }

  void request();  // thread-safe
  void start();    // starts the loop's thread and the periodic pass
  // Thread-safe. Waits for a pass that is running to hand over its decisions; none starts after.
  void stop();

 private:
  void run_pass();
  void schedule_pass();
  void finished();
  void periodic();

  boost::asio::io_context ioc_{1};  // the loop's thread's: its passes and timers
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      ioc_.get_executor()};
  std::thread thread_;
  store::CommitQueue& writes_;
  store::JobStore& reads_;
  store::DatasetStore& datasets_;
  nodes::NodeRegistry& registry_;
  sched::Profile profile_;
  std::int64_t half_life_ms_;
  Clock now_ms_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer delay_;
  PassTimed on_pass_;
  boost::asio::steady_timer wake_;  // the earliest begin time the last pass saw ahead
  QueueState queue_;
  // The last pass's waits: a reason is formatted only when its wait changed. Loop thread only.
  std::map<sched::JobId, sched::Wait> last_waits_;
  std::chrono::steady_clock::time_point last_pass_{};
  std::chrono::steady_clock::duration last_cost_{};  // the last pass's own work, commit aside
  std::mutex mutex_;
  bool running_ = false;
  bool again_ = false;
  bool stopped_ = false;
  Committed on_committed_;
};

}  // namespace sy::runtime
