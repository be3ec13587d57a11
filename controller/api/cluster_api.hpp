#pragma once
// ClusterApi: GET /v1/cluster, the dashboard's cluster and queue (cluster_view.hpp), read from
// the store, the node registry and the staging tracker. The events hub asks it for the same
// view to push.

#include <cstdint>
#include <mutex>

#include "common/result.hpp"
#include "controller/api/api_types.hpp"
#include "controller/api/cluster_view.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/nodes/staging_tracker.hpp"
#include "controller/store/job_store.hpp"

namespace sy::api {

class ClusterApi : public RequestHandler {
 public:
  // `reads` is a read connection used only by this API.
  ClusterApi(store::JobStore& reads, const nodes::NodeRegistry& registry,
             const nodes::StagingTracker& staging)
      : reads_(reads), registry_(registry), staging_(staging) {}
  void handle(ApiRequest request, Responder respond) override;
  // The view for `viewer`, now; a store error's message when the store cannot be read.
  Result<nlohmann::json, std::string> view(const Viewer& viewer);

 private:
  store::JobStore& reads_;
  std::mutex reads_mutex_;
  const nodes::NodeRegistry& registry_;
  const nodes::StagingTracker& staging_;
};

}  // namespace sy::api
