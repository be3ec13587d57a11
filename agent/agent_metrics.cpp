#include "agent/agent_metrics.hpp"

#include <map>

#include "common/metrics_text.hpp"

namespace sy::agent {

std::string render_agent_metrics(const AgentMetricsInput& in) {
  metrics::MetricsText m;
  const metrics::Labels node{{"node", in.node}};
  m.family("sy_agent_registrations_total", "counter",
           "Registrations with the controller (each reconnection registers again).");
  m.sample("sy_agent_registrations_total", node, static_cast<double>(in.registrations));
  std::map<std::string, int> by_state{{"running", 0}};
  for (const auto& j : in.jobs)
    ++by_state[j.state];
  m.family("sy_agent_jobs", "gauge", "This node's jobs, by state (ended ones until acknowledged).");
  for (const auto& [state, n] : by_state)
    m.sample("sy_agent_jobs", {{"node", in.node}, {"state", state}}, n);
  m.family("sy_agent_tier0_bytes", "gauge", "Bytes held in the node's Tier-0 dataset cache.");
  m.sample("sy_agent_tier0_bytes", node, static_cast<double>(in.cache_bytes));
  m.family("sy_agent_tier0_quota_bytes", "gauge", "The Tier-0 cache's quota.");
  m.sample("sy_agent_tier0_quota_bytes", node, static_cast<double>(in.cache_quota_bytes));
  m.family("sy_agent_tier0_datasets", "gauge", "Dataset versions held in the Tier-0 cache.");
  m.sample("sy_agent_tier0_datasets", node, static_cast<double>(in.cache_datasets));
  m.family("sy_agent_staging_bytes_copied_total", "counter",
           "Bytes copied into the Tier-0 cache since the agent started.");
  m.sample("sy_agent_staging_bytes_copied_total", node,
           static_cast<double>(in.staging.bytes_copied));
  m.family("sy_agent_staging_orders_total", "counter",
           "Stage orders since the agent started, by how they ended (hit: the copy was there).");
  for (const auto& [result, n] :
       {std::pair{"hit", in.staging.hits}, std::pair{"copied", in.staging.copied},
        std::pair{"failed", in.staging.failed}}) {
    m.sample("sy_agent_staging_orders_total", {{"node", in.node}, {"result", result}},
             static_cast<double>(n));
  }
  return m.text();
}

}  // namespace sy::agent
