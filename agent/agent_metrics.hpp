#pragma once
// What an agent's /metrics says (Prometheus' text format), from a snapshot of its state:
//
//   sy_agent_registrations_total{node}        counter  registrations with the controller
//   sy_agent_jobs{node,state}                 gauge    this node's jobs, by state
//   sy_agent_tier0_bytes{node}                gauge    bytes held in the Tier-0 cache
//   sy_agent_tier0_quota_bytes{node}          gauge    the cache's quota
//   sy_agent_tier0_datasets{node}             gauge    dataset versions held
//   sy_agent_staging_bytes_copied_total{node} counter  bytes copied into the cache
//   sy_agent_staging_orders_total{node,result}  counter  stage orders: hit, copied, failed

#include <cstdint>
#include <string>
#include <vector>

#include "agent/stage_worker.hpp"
#include "common/agent_protocol.hpp"

namespace sy::agent {

struct AgentMetricsInput {
  std::string node;
  std::int64_t registrations = 0;
  std::vector<protocol::JobReport> jobs;
  std::int64_t cache_bytes = 0, cache_quota_bytes = 0, cache_datasets = 0;
  StageWorker::Totals staging;
};

std::string render_agent_metrics(const AgentMetricsInput& in);

}  // namespace sy::agent
