#pragma once
// NodeApi: the /v1/nodes endpoints.
//   GET  /v1/nodes                 every node: state, GPUs, leaf switch, last heard from
//   GET  /v1/nodes/{name}          one node, with its topology
//   POST /v1/nodes/{name}/drain    no new jobs (body, optional: {"reason": "..."})
//   POST /v1/nodes/{name}/resume   accept jobs again

#include <cstdint>
#include <functional>

#include "controller/api/api_types.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/store/commit_queue.hpp"

namespace sy::api {

class NodeApi : public RequestHandler {
 public:
  using Clock = std::function<std::int64_t()>;
  NodeApi(store::CommitQueue& writes, nodes::NodeRegistry& registry, Clock now_ms);
  void handle(ApiRequest request, Responder respond) override;
  // Called after a committed change that scheduling should see (submit, cancel, drain...).
  void set_on_change(std::function<void()> f) { on_change_ = std::move(f); }

 private:
  void set_drain(const ApiRequest& request, const std::string& name, bool drain, Responder respond);
  store::CommitQueue& writes_;
  nodes::NodeRegistry& registry_;
  Clock now_ms_;
  std::function<void()> on_change_;
};

// A node as the API shows it; `with_topology` adds the full topology.
nlohmann::json node_view_to_json(const nodes::NodeView& node, bool with_topology);

}  // namespace sy::api
