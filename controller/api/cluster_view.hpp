#pragma once
// The dashboard's picture of the cluster, as one JSON value made from plain inputs (no store, no
// clock): every node's GPUs grouped by leaf switch, each GPU with the job holding it, and the
// queue with each job's reason. GET /v1/cluster answers it and /v1/events pushes it.
//
// What a viewer sees follows GET /v1/jobs: admins see every job; other users see their own jobs
// in full, and another user's GPUs only as taken (with the ring's link class, which names nobody).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/job_record.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/store/job_store.hpp"

namespace sy::api {

struct Viewer {
  std::string user;
  bool admin = false;
  bool sees(const std::string& owner) const { return admin || owner == user; }
};

struct StagingProgress {
  std::int64_t bytes_done = 0, bytes_total = 0;
};

// Every figure is whole (no job left out at any size): GPU cells come from every placed job,
// totals from counts; only the queue's rows are a page (the first kQueueShown).
struct ClusterInputs {
  std::vector<nodes::NodeView> nodes;
  std::vector<store::AllocationRow> allocations;
  std::map<JobId, store::PlacedJobRow> holders;  // every staging or running job
  std::map<JobState, std::int64_t> counts;       // the viewer's jobs that have not ended
  // The jobs the queue shows (the viewer's, not ended): at least the first kQueueShown of them
  // in queue order (staging and running first, then the others, each by id), or all.
  std::vector<JobRecord> queue_jobs;
  std::map<JobId, StagingProgress> staging;
};

// {"viewer", "totals": {gpus, allocated, nodes, jobs: {STATE: n}}, "leaves": [{leaf, spine,
// nodes: [{name, state, reason, gpus: [{index, model, job?}]}]}], "queue": [...], "queue_more"}
nlohmann::json cluster_view(const ClusterInputs& in, const Viewer& viewer);

// The queue shows at most this many jobs (running and staging first by id, then waiting);
// `queue_more` counts the rest.
inline constexpr std::size_t kQueueShown = 500;

}  // namespace sy::api
