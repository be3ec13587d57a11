#include "controller/nodes/stage_dispatch.hpp"

#include <algorithm>

namespace sy::nodes {

bool node_holds(const NodeRegistry& registry, const std::string& node, const std::string& dataset,
                const std::string& version) {
  const auto view = registry.get(node);
  return view && std::any_of(view->datasets.begin(), view->datasets.end(),
                             [&](const protocol::CachedDataset& c) {
                               return c.name == dataset && c.version == version;
                             });
}

Result<std::string, DispatchFailure> dispatch_stage(store::DatasetStore& datasets,
                                                    StagingTracker& staging, AgentGateway& agents,
                                                    const NodeRegistry& registry,
                                                    const std::string& node,
                                                    const std::string& dataset, std::int64_t now_ms,
                                                    std::int64_t job, bool full) {
  using Why = DispatchFailure::Why;
  auto row = datasets.get(dataset);
  if (!row) return fail(DispatchFailure{Why::store, row.error().message});
  if (!row.value()) {
    return fail(DispatchFailure{Why::not_registered, "dataset " + dataset + " is not registered"});
  }
  const auto& current = row.value()->current;
  protocol::StageOrder order{.request = "",
                             .source = row.value()->source,
                             .dataset = dataset,
                             .version = current.version,
                             .manifest = std::nullopt,
                             .manifest_files = std::nullopt};
  // A copy to make names its manifest; the agent fetches it in slices (manifest_server.hpp).
  if (full || !node_holds(registry, node, dataset, current.version)) {
    order.manifest_files = current.files;
  }
  order.request = staging.start(node,
                                {.dataset = dataset,
                                 .version = current.version,
                                 .bytes = current.bytes,
                                 .files = current.files},
                                now_ms, job);
  if (!agents.send_to(node, protocol::stage_order_message(order))) {
    staging.fail_node(node, "no agent connected", now_ms);
    return fail(DispatchFailure{Why::no_agent, "node " + node + " has no agent connected"});
  }
  return order.request;
}

}  // namespace sy::nodes
