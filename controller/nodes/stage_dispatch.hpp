#pragma once
// Sending a stage order: the dataset's current version and manifest from the registry, a new
// order in the tracker, the order to the node's agent. Shared by `sy stage` (the API) and the
// job runner, so both order exactly the same way.

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "controller/nodes/agent_gateway.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/nodes/staging_tracker.hpp"
#include "controller/store/dataset_store.hpp"

namespace sy::nodes {

struct DispatchFailure {
  enum class Why { not_registered, store, no_agent } why;
  std::string message;
};

// The new order's id. `job`: the job that waits for it (0: none). Where the registry says the
// node holds the current version, the order is a check without the manifest (the agent checks
// the copy against its own record); `full` sends the manifest regardless (after a check found
// the copy missing).
Result<std::string, DispatchFailure> dispatch_stage(store::DatasetStore& datasets,
                                                    StagingTracker& staging, AgentGateway& agents,
                                                    const NodeRegistry& registry,
                                                    const std::string& node,
                                                    const std::string& dataset, std::int64_t now_ms,
                                                    std::int64_t job = 0, bool full = false);
// Whether the node's agent reported holding this version of the dataset.
bool node_holds(const NodeRegistry& registry, const std::string& node, const std::string& dataset,
                const std::string& version);

}  // namespace sy::nodes
