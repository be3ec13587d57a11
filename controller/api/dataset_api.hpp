#pragma once
// DatasetApi: the dataset registry (/v1/datasets).
//   POST /v1/datasets                  {"name": N, "source": "/shared/..."}: scans the source
//                                      (every file hashed, off the API's thread) and records a
//                                      new version when the content changed
//   GET  /v1/datasets                  every dataset with its current version
//   GET  /v1/datasets/{name}           one dataset with all its versions and the nodes that
//                                      hold a copy
//   GET  /v1/datasets/{name}/manifest  the current version's manifest (?version=V for another)
//   POST /v1/datasets/{name}/stage     {"node": N}: the node's agent stages the current version
//                                      into its Tier-0 cache; answers 202 with the order's id
//   GET  /v1/datasets/{name}/stage/{id} how that order is going (bytes, files, state, error)

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "controller/api/api_types.hpp"
#include "controller/nodes/agent_gateway.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/nodes/staging_tracker.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/dataset_store.hpp"

namespace sy::api {

class DatasetApi : public RequestHandler {
 public:
  using Clock = std::function<std::int64_t()>;
  // `reads` is a read connection used only by this API; `scan_parallel` files are hashed at once.
  // `registry` says which nodes hold which versions (their agents report their caches).
  DatasetApi(store::CommitQueue& writes, store::DatasetStore& reads,
             const nodes::NodeRegistry& registry, nodes::AgentGateway& agents,
             nodes::StagingTracker& staging, Clock now_ms, int scan_parallel);
  ~DatasetApi() override;
  DatasetApi(const DatasetApi&) = delete;
  DatasetApi& operator=(const DatasetApi&) = delete;
  void handle(ApiRequest request, Responder respond) override;

 private:
  struct Scan {
    std::string name, source, user;
    Responder respond;
  };
  void add(const ApiRequest& request, Responder respond);
  void stage(const ApiRequest& request, const std::string& name, Responder respond);
  void scan_loop(const std::stop_token& stop);
  void run_scan(Scan scan);

  store::CommitQueue& writes_;
  store::DatasetStore& reads_;
  std::mutex reads_mutex_;
  const nodes::NodeRegistry& registry_;
  nodes::AgentGateway& agents_;
  nodes::StagingTracker& staging_;
  Clock now_ms_;
  int scan_parallel_;
  std::mutex scans_mutex_;
  std::condition_variable_any scans_cv_;
  std::deque<Scan> scans_;
  std::jthread scanner_;  // last: stops before the members it uses go
};

}  // namespace sy::api
