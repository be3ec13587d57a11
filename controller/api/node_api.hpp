#pragma once
// NodeApi: the /v1/nodes endpoints.
//   GET  /v1/nodes                 every node: state, GPUs, leaf switch, last heard from
//   GET  /v1/nodes/{name}          one node, with its topology
//   POST /v1/nodes/{name}/drain    no new jobs (body, optional: {"reason": "..."})
//   POST /v1/nodes/{name}/resume   accept jobs again

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "controller/api/api_types.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/job_store.hpp"

namespace sy::api {

using GpuCount = int;

class NodeApi : public RequestHandler {
 public:
  using Clock = std::function<std::int64_t()>;
  // `reads` is a read connection used only by this API (for the GPUs jobs hold).
  NodeApi(store::CommitQueue& writes, store::JobStore& reads, nodes::NodeRegistry& registry,
          Clock now_ms);
  void handle(ApiRequest request, Responder respond) override;
  // Called after a committed change that scheduling should see (submit, cancel, drain...).
  void set_on_change(std::function<void()> f) { on_change_ = std::move(f); }

 private:
  void set_drain(const ApiRequest& request, const std::string& name, bool drain, Responder respond);
  // Allocated GPUs per node, from the committed allocations.
  std::map<std::string, GpuCount> allocated();
  store::CommitQueue& writes_;
  store::JobStore& reads_;
  std::mutex reads_mutex_;
  nodes::NodeRegistry& registry_;
  Clock now_ms_;
  std::function<void()> on_change_;
};

// A node as the API shows it, with `allocated` GPUs held by jobs; `with_topology` adds the
// full topology.
nlohmann::json node_view_to_json(const nodes::NodeView& node, int allocated, bool with_topology);

}  // namespace sy::api
