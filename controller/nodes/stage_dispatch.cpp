#include "controller/nodes/stage_dispatch.hpp"

namespace sy::nodes {

Result<std::string, DispatchFailure> dispatch_stage(store::DatasetStore& datasets,
                                                    StagingTracker& staging, AgentGateway& agents,
                                                    const std::string& node,
                                                    const std::string& dataset, std::int64_t now_ms,
                                                    std::int64_t job) {
  using Why = DispatchFailure::Why;
  auto row = datasets.get(dataset);
  if (!row) return fail(DispatchFailure{Why::store, row.error().message});
  if (!row.value()) {
    return fail(DispatchFailure{Why::not_registered, "dataset " + dataset + " is not registered"});
  }
  auto manifest = datasets.manifest(dataset, row.value()->current.version);
  if (!manifest) return fail(DispatchFailure{Why::store, manifest.error().message});
  if (!manifest.value()) {
    return fail(DispatchFailure{Why::store, "dataset " + dataset + " has no manifest"});
  }
  const std::string id = staging.start(node, *manifest.value(), now_ms, job);
  const protocol::StageOrder order{
      .request = id, .source = row.value()->source, .manifest = std::move(*manifest.value())};
  if (!agents.send_to(node, protocol::stage_order_message(order))) {
    staging.fail_node(node, "no agent connected", now_ms);
    return fail(DispatchFailure{Why::no_agent, "node " + node + " has no agent connected"});
  }
  return id;
}

}  // namespace sy::nodes
