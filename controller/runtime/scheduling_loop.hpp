#pragma once
// SchedulingLoop: runs the pure scheduling pass whenever something changed (a submit, a cancel,
// a node joining, leaving or draining) and on a slow timer, one pass at a time: requests that
// arrive during a pass are coalesced into one more. Decisions are committed in one transaction:
// started jobs go STAGING with their GPU allocations, waiting jobs get their reason, jobs whose
// dependency can never be met are cancelled. A pass is also due when a job's begin time comes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "controller/nodes/node_registry.hpp"
#include "controller/scheduler/plan.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/dataset_store.hpp"
#include "controller/store/job_store.hpp"

namespace sy::runtime {

class SchedulingLoop {
 public:
  using Clock = std::function<std::int64_t()>;
  // `reads` and `datasets` share a read connection used only by this loop.
  SchedulingLoop(boost::asio::io_context& ioc, store::CommitQueue& writes, store::JobStore& reads,
                 store::DatasetStore& datasets, nodes::NodeRegistry& registry,
                 sched::Profile profile, std::int64_t fair_share_half_life_ms, Clock now_ms);

  // After each pass's decisions are committed: the (node, dataset) pairs to stage ahead of
  // the job reserved to start next. Started jobs are STAGING by then.
  using Committed = std::function<void(std::vector<std::pair<std::string, std::string>> prestage)>;
  void set_on_committed(Committed f) { on_committed_ = std::move(f); }

  // Each pass's duration in seconds, from reading its input to committing its decisions.
  using PassTimed = std::function<void(double seconds)>;
  void set_on_pass(PassTimed f) { on_pass_ = std::move(f); }

  void request();  // thread-safe
  void start();    // the periodic pass
  void stop();

 private:
  void run_pass();
  void schedule_pass();
  void finished();

  boost::asio::io_context& ioc_;
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
  // The last pass's waits: a reason is formatted only when its wait changed. Io thread only.
  std::map<sched::JobId, sched::Wait> last_waits_;
  std::chrono::steady_clock::time_point last_pass_{};
  std::mutex mutex_;
  bool running_ = false;
  bool again_ = false;
  bool stopped_ = false;
  Committed on_committed_;
};

}  // namespace sy::runtime
