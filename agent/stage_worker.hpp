#pragma once
// StageWorker: carries out the controller's stage orders one at a time on its own thread, so the
// link keeps heartbeating while datasets copy, and reports progress (about four times a second)
// and the outcome back through `send`.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/staging/tier0_cache.hpp"
#include "common/agent_protocol.hpp"

namespace sy::agent {

// The cache's verified copies as the protocol lists them.
std::vector<protocol::CachedDataset> cache_contents(const staging::Tier0Cache& cache);

class StageWorker {
 public:
  using Send = std::function<void(nlohmann::json)>;
  StageWorker(staging::Tier0Cache& cache, Send send, int parallel);
  ~StageWorker();  // cancels the stage under way (it stays resumable) and stops
  StageWorker(const StageWorker&) = delete;
  StageWorker& operator=(const StageWorker&) = delete;

  void order(protocol::StageOrder order);  // thread-safe

  // Since the agent started, for /metrics: bytes copied into Tier-0, and how orders ended (hit:
  // the copy was there and only checked).
  struct Totals {
    std::int64_t bytes_copied = 0, hits = 0, copied = 0, failed = 0;
  };
  Totals totals() const;

 private:
  void loop(const std::stop_token& stop);
  void run(const protocol::StageOrder& order);
  void count(const protocol::StageReport& report);  // a finished order, into totals_

  staging::Tier0Cache& cache_;
  Send send_;
  int parallel_;
  std::atomic<bool> cancel_{false};
  mutable std::mutex totals_mutex_;
  Totals totals_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<protocol::StageOrder> orders_;
  std::jthread thread_;  // last: stops first
};

}  // namespace sy::agent
