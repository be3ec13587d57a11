#include "controller/api/metrics_api.hpp"

#include <map>

namespace sy::api {

MetricsApi::MetricsApi(store::JobStore& reads, const nodes::NodeRegistry& registry,
                       const nodes::StagingTracker& staging, Clock now_ms)
    : reads_(reads), registry_(registry), staging_(staging), now_ms_(std::move(now_ms)) {}

void MetricsApi::handle(ApiRequest request, Responder respond) {
  if (request.path != "/metrics") {
    return respond(error_response(404, "no_such_endpoint", "no endpoint " + request.path));
  }
  if (request.method != "GET") return respond(error_response(405, "method_not_allowed", "use GET"));
  std::map<JobState, std::int64_t> jobs;
  std::vector<store::AllocationRow> allocations;
  {
    const std::scoped_lock lock(reads_mutex_);
    auto counted = reads_.count_by_state();
    auto held = reads_.allocations();
    if (!counted || !held) {
      return respond(error_response(500, "store_error",
                                    !counted ? counted.error().message : held.error().message));
    }
    jobs = std::move(counted).value();
    allocations = std::move(held).value();
  }
  metrics::MetricsText m;
  m.family("sy_jobs", "gauge", "Jobs in each state that has not ended.");
  std::int64_t total = 0;
  for (const auto& [state, n] : jobs) {
    total += n;
    if (!is_terminal(state)) m.sample("sy_jobs", {{"state", std::string(state_name(state))}}, n);
  }
  m.family("sy_jobs_ended_total", "counter", "Jobs that ended, by how.");
  for (const auto& [state, n] : jobs) {
    if (is_terminal(state)) {
      m.sample("sy_jobs_ended_total", {{"state", std::string(state_name(state))}}, n);
    }
  }
  m.family("sy_jobs_submitted_total", "counter", "Jobs (and array tasks) ever accepted.");
  m.sample("sy_jobs_submitted_total", {}, static_cast<double>(total));
  m.histogram("sy_scheduling_pass_seconds",
              "Scheduling passes: reading the queue to committing the decisions.",
              pass_seconds_.snapshot());
  m.family("sy_scheduling_pass_max_seconds", "gauge",
           "The longest scheduling pass since the controller started.");
  m.sample("sy_scheduling_pass_max_seconds", {}, pass_max_seconds_.load());

  std::map<std::string, int> allocated;  // GPUs held per node
  for (const auto& a : allocations)
    allocated[a.node] += __builtin_popcountll(a.gpus);
  const auto nodes = registry_.list();
  const std::int64_t now = now_ms_();
  std::map<std::string, std::pair<int, int>> leaves;  // leaf -> (GPUs, allocated)
  m.family("sy_node_gpus", "gauge", "GPUs of each node.");
  for (const auto& n : nodes) {
    const std::string leaf = n.leaf.empty() ? "none" : n.leaf;
    m.sample("sy_node_gpus", {{"node", n.name}, {"leaf", leaf}}, n.topology->gpu_count());
    leaves[leaf].first += n.topology->gpu_count();
    leaves[leaf].second += allocated[n.name];
  }
  m.family("sy_node_gpus_allocated", "gauge", "GPUs of each node held by jobs.");
  for (const auto& n : nodes) {
    m.sample("sy_node_gpus_allocated",
             {{"node", n.name}, {"leaf", n.leaf.empty() ? "none" : n.leaf}}, allocated[n.name]);
  }
  m.family("sy_leaf_gpus", "gauge", "GPUs under each leaf switch.");
  for (const auto& [leaf, g] : leaves)
    m.sample("sy_leaf_gpus", {{"leaf", leaf}}, g.first);
  m.family("sy_leaf_gpus_allocated", "gauge", "GPUs under each leaf switch held by jobs.");
  for (const auto& [leaf, g] : leaves)
    m.sample("sy_leaf_gpus_allocated", {{"leaf", leaf}}, g.second);
  m.family("sy_node_up", "gauge", "1 for each node's state (UP, DRAINING, DOWN).");
  for (const auto& n : nodes) {
    m.sample("sy_node_up", {{"node", n.name}, {"state", std::string(node_state_name(n.state))}}, 1);
  }
  m.family("sy_agent_heartbeat_age_seconds", "gauge", "Seconds since each node's agent was heard.");
  for (const auto& n : nodes) {
    m.sample("sy_agent_heartbeat_age_seconds", {{"node", n.name}},
             static_cast<double>(std::max<std::int64_t>(0, now - n.last_heard_ms)) / 1000.0);
  }
  const auto staged = staging_.totals();
  m.family("sy_staging_bytes_copied_total", "counter",
           "Bytes the agents copied into Tier-0 caches since the controller started.");
  m.sample("sy_staging_bytes_copied_total", {}, static_cast<double>(staged.bytes_copied));
  m.family("sy_staging_orders_total", "counter",
           "Stage orders since the controller started, by how they ended (hit: the node had the "
           "copy and only checked it).");
  m.sample("sy_staging_orders_total", {{"result", "hit"}}, static_cast<double>(staged.cache_hits));
  m.sample("sy_staging_orders_total", {{"result", "copied"}}, static_cast<double>(staged.copied));
  m.sample("sy_staging_orders_total", {{"result", "failed"}}, static_cast<double>(staged.failed));
  ApiResponse r;
  r.text = m.text();
  r.content_type = metrics::kContentType;
  respond(std::move(r));
}

}  // namespace sy::api
