#pragma once
// GangPlacer: where a job's whole gang can go given which GPUs are free. Inside a node it takes
// the GPU subset with the best ring; across nodes it looks for one leaf switch that can hold the
// gang, then one spine, then anywhere, using as few leaves as it can. Pure and deterministic;
// caches the best subset per (node topology, free GPUs, count) for the length of a pass. Scores
// that depend on the job (data affinity) are added per node and job, over a view of which node
// holds which dataset that grows as this pass starts jobs (their staging is as good as done).

#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "controller/scheduler/data_holding.hpp"
#include "controller/scheduler/option_memo.hpp"
#include "controller/scheduler/plan.hpp"

namespace sy::sched {

struct GangChoice {
  std::vector<NodePlacement> placements;
  std::int64_t staging_ms = 0;
  double ring_gbps = 0;
  std::vector<std::pair<std::string, int>> scores;
};

// Whether a node's GPUs are of the kind the job asks for (model, least memory).
bool gpus_match(const topo::NodeTopology& topology, const PendingJob& job);
// Whether a node has every feature the job asks for.
bool has_features(const NodeInput& node, const PendingJob& job);

class GangPlacer {
 public:
  // `memo`: answers of earlier passes to reuse and add to (see option_memo.hpp); nullptr: this
  // pass's own.
  GangPlacer(const Snapshot& snapshot, const Profile& profile, OptionMemo* memo = nullptr);

  // A placement for `job` using only GPUs in `free` (one mask per node) on nodes whose `room`
  // (CPUs and memory free) can take its share, or nullopt. Scans every node: the reference that
  // the plan's index must agree with.
  std::optional<GangChoice> place(const PendingJob& job, const std::vector<GpuMask>& free,
                                  const std::vector<Room>& room);

  struct NodeOption {
    int node;
    GpuMask gpus;
    int score;
    GpuMask free_before;
  };
  using Cached = OptionMemo::Option;
  // The best `count` GPUs among `free` on a node of this topology, and the weighted score of
  // the scorers that do not depend on the job.
  const Cached& option(const topo::NodeTopology* topology, GpuMask free, int count);
  // The best option for `job`'s per-node share on `node`, if it fits (GPUs, CPUs, memory) and
  // has the right GPUs; its score includes the per-job scorers.
  std::optional<NodeOption> on_node(int node, GpuMask free, const Room& room,
                                    const PendingJob& job);
  // The per-job scorers' weighted score for `job` on `node`.
  int job_score(int node, const PendingJob& job);
  GangChoice finish(const std::vector<NodeOption>& chosen, const PendingJob& job);

  // What `job`'s datasets would cost on `node` now.
  placement::DataNeed data_need(int node, const PendingJob& job);
  // Nodes that hold some of one of `job`'s datasets, ascending.
  std::vector<int> holders(const PendingJob& job);

  // Registered datasets by number (data_holding.hpp).
  int dataset_id(const std::string& name) const { return holding_.id(name); }
  std::int64_t dataset_size(int id) const { return holding_.size(id); }
  // The numbers of `job`'s registered datasets, in the job's order. Kept for the last job
  // asked about (a pass asks about one job many times in a row): jobs are taken by reference
  // to objects that outlive the placer, as the snapshot's are.
  const std::vector<int>& dataset_ids(const PendingJob& job);
  // Nodes that hold some of dataset `id`, ascending (those this pass started a job on
  // included), and those that hold some but not all of it.
  const std::vector<int>& holders(int id) const;
  const std::vector<int>& partial_holders(int id) const;
  // `job` starts on these nodes: from now on they count as holding its datasets.
  void staged(const std::vector<NodePlacement>& placements, const PendingJob& job);
  // Bytes of dataset `id` held on `node` (at most its size), counting this pass's starts.
  std::int64_t held(int node, int id) const;

 private:
  const Snapshot& snapshot_;
  const Profile& profile_;
  // The choice and its score depend only on (topology, free GPUs, count): computed once a pass.
  std::map<OptionMemo::Key, Cached> own_cache_;
  std::map<OptionMemo::Key, Cached>& cache_;  // own_cache_, or the memo's
  std::map<OptionMemo::RingKey, double> own_rings_;
  std::map<OptionMemo::RingKey, double>& rings_;  // own_rings_, or the memo's
  double ring_gbps(const topo::NodeTopology& topology, GpuMask gpus);
  std::vector<std::pair<const placement::PlacementScorer*, int>> node_scorers_, job_scorers_;
  int no_data_score_ = 0;                   // the per-job scorers' total for a job without datasets
  std::optional<DataHolding> own_holding_;  // when the snapshot brings none
  const DataHolding& holding_;
  // What this pass's starts changed: (node, dataset) pairs now whole, and the holders of the
  // datasets they read as they are now.
  std::set<std::pair<int, int>> staged_;
  std::map<int, std::vector<int>> holders_now_, partial_now_;
  const PendingJob* ids_job_ = nullptr;  // whose dataset_ids() job_ids_ holds
  JobId ids_job_id_ = 0;
  std::vector<int> job_ids_;
};

}  // namespace sy::sched
