#pragma once
// Simulator: replays a trace on a simulated cluster in virtual time, calling the scheduler's own
// plan() whenever jobs arrive or end, exactly as the controller's loop does. Jobs run for their
// trace duration stretched by the runtime model for the placement they got, after staging what
// their nodes' caches lack. Deterministic: the same trace, cluster and policy give the same
// result.

#include <cstdint>
#include <string>
#include <vector>

#include "controller/scheduler/plan.hpp"
#include "controller/sim/runtime_model.hpp"
#include "controller/sim/sim_cluster.hpp"
#include "controller/sim/trace.hpp"

namespace sy::sim {

struct JobOutcome {
  std::string id;
  std::string model_class;
  ClassSource class_source = ClassSource::named;
  int gpus = 0;
  int nodes = 0;
  std::int64_t submit_ms = 0;
  std::int64_t start_ms = 0;  // GPUs allocated (staging starts)
  std::int64_t end_ms = 0;
  double duration_s = 0;   // at the best placement, from the trace
  double runtime_s = 0;    // at the placement it got
  double staging_s = 0;    // waited for data after its GPUs were allocated
  double ring_gbps = 0;    // its ring's bottleneck (infinite: one GPU)
  double best_gbps = 0;    // the best possible for its size on this cluster
  bool cache_hit = false;  // every node already held (or had pre-staged) its dataset
  bool has_dataset = false;
};

struct SimResult {
  std::string policy;
  std::vector<JobOutcome> jobs;  // in trace order
  std::int64_t passes = 0;       // scheduling passes run
  std::int64_t replans = 0;      // passes run again over a larger window of the queue
  std::size_t most_queued = 0;   // the longest the queue grew
  std::size_t window = 0;        // the window's size at the end (0: not incremental)
  // Fragmentation: GPU-milliseconds free while the queue's first waiting job (the reservation)
  // waited although at least as many GPUs as it needs were free, only not in its shape.
  std::int64_t stranded_gpu_ms = 0;
  double wall_s = 0;  // real time the replay took
};

struct SimOptions {
  double limit_factor = 2.0;  // users ask for this many times the ideal run time
  // Each pass is handed a window of the queue's head (`window` jobs at first; it grows when a
  // pass needs more) and what earlier passes worked out (the nodes' best GPUs per count, their
  // caches by dataset number). false: every pass gets the whole queue and works everything out
  // anew: the same decisions, slower; the reference the tests hold the incremental replay to.
  bool incremental = true;
  std::size_t window = 2048;
};

class Simulator {
 public:
  Simulator(const SimCluster& cluster, const RuntimeModel& model, SimOptions options = {});
  SimResult run(const std::vector<TraceJob>& trace, const sched::Profile& profile,
                const std::string& policy_name) const;

  // The best ring bottleneck a job of this many GPUs can get on this cluster (GB/s).
  double best_gbps(int gpus) const;

  // What the replay hands the scheduler: the cluster with every GPU free and the trace's dataset
  // sizes, and a trace job as a pending job (id: its index in the trace plus one).
  sched::Snapshot empty_snapshot(const std::vector<TraceJob>& trace) const;
  sched::PendingJob pending_job(const TraceJob& job, std::size_t index, std::int64_t now_ms) const;

 private:
  const SimCluster& cluster_;
  const RuntimeModel& model_;
  SimOptions options_;
  int gpus_per_node_ = 8;
  std::vector<double> best_by_count_;  // index: GPUs on one node
};

// The shape a trace job takes: gangs of whole nodes when it is larger than one node.
void gang_shape(int gpus, int gpus_per_node, int& nodes, int& per_node);

}  // namespace sy::sim
