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

 private:
  void loop(const std::stop_token& stop);
  void run(const protocol::StageOrder& order);

  staging::Tier0Cache& cache_;
  Send send_;
  int parallel_;
  std::atomic<bool> cancel_{false};
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<protocol::StageOrder> orders_;
  std::jthread thread_;  // last: stops first
};

}  // namespace sy::agent
