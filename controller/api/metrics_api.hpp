#pragma once
// MetricsApi: GET /metrics in Prometheus' text format. Counts only (jobs by state, GPUs per node
// and leaf switch, staging totals, heartbeat ages, the scheduling pass's duration): no job
// names, users or commands, so scrapers need no user identity (as /v1/health).
//
//   sy_jobs{state}                          gauge    jobs in each waiting or running state
//   sy_jobs_ended_total{state}              counter  jobs that ended COMPLETED/FAILED/CANCELLED
//   sy_jobs_submitted_total                 counter  jobs (and array tasks) ever accepted
//   sy_scheduling_pass_seconds              histogram
//   sy_node_gpus{node,leaf}                 gauge    GPUs of each node
//   sy_node_gpus_allocated{node,leaf}       gauge    of those, held by jobs
//   sy_leaf_gpus{leaf} / sy_leaf_gpus_allocated{leaf}
//   sy_node_up{node,state}                  gauge    1 for the node's state
//   sy_agent_heartbeat_age_seconds{node}    gauge    since its agent was last heard
//   sy_staging_bytes_copied_total           counter  bytes the agents copied into Tier-0
//   sy_staging_orders_total{result}         counter  hit (copy already there), copied, failed

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

#include "common/metrics_text.hpp"
#include "controller/api/api_types.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/nodes/staging_tracker.hpp"
#include "controller/store/job_store.hpp"

namespace sy::api {

class MetricsApi : public RequestHandler {
 public:
  using Clock = std::function<std::int64_t()>;
  MetricsApi(store::JobStore& reads, const nodes::NodeRegistry& registry,
             const nodes::StagingTracker& staging, Clock now_ms);
  void handle(ApiRequest request, Responder respond) override;

  // The scheduling loop reports each pass here.
  void observe_pass(double seconds) {
    pass_seconds_.observe(seconds);
    double seen = pass_max_seconds_.load();
    while (seconds > seen && !pass_max_seconds_.compare_exchange_weak(seen, seconds)) {
    }
  }

 private:
  store::JobStore& reads_;
  std::mutex reads_mutex_;
  const nodes::NodeRegistry& registry_;
  const nodes::StagingTracker& staging_;
  Clock now_ms_;
  std::atomic<double> pass_max_seconds_{0};
  metrics::Histogram pass_seconds_{{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}};
};

}  // namespace sy::api
