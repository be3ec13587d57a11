#pragma once
// ClusterBuilder: scheduler snapshots from the fixture topologies, for tests and benchmarks.
//   ClusterBuilder b; b.node("node01", "dgx1-v100", "leaf1", "spine1"); auto s = b.snapshot();

#include <map>
#include <memory>
#include <string>

#include "controller/scheduler/snapshot.hpp"

namespace sy::test {

class ClusterBuilder {
 public:
  // Adds a node with every GPU free. `fixture` names a file in examples/topologies/.
  ClusterBuilder& node(const std::string& name, const std::string& fixture,
                       const std::string& leaf = "", const std::string& spine = "");
  ClusterBuilder& busy(const std::string& node, sched::GpuMask gpus, sched::JobId job,
                       std::int64_t end_ms, int cpus = 0, std::int64_t memory_mib = 0);
  // The node has this many CPUs and this much memory for jobs (before what busy() holds).
  ClusterBuilder& room(const std::string& node, std::int64_t cpus, std::int64_t memory_mib);
  // The last job added needs this many CPUs and this much memory on each of its nodes.
  ClusterBuilder& asks(int cpus_per_node, std::int64_t memory_per_node_mib = 0);
  ClusterBuilder& job(sched::JobId id, int nodes, int gpus_per_node, std::int64_t time_limit_ms = 0,
                      int priority = 0, const std::string& account = "acct");
  // Restricts the last job added to GPUs of a model and/or with at least this much memory.
  ClusterBuilder& needs(const std::string& gpu_model, std::int64_t min_gpu_memory_mib = 0);
  // The last job added reads this dataset / needs this node feature.
  ClusterBuilder& uses(const std::string& dataset);
  ClusterBuilder& wants(const std::string& feature);
  // The last job added may start only after `job` ends (successfully when ok_only).
  ClusterBuilder& after(sched::JobId job, bool ok_only = true);
  ClusterBuilder& begins(std::int64_t begin_ms);
  ClusterBuilder& in_array(sched::JobId array_id, int limit);
  // A dataset of this size exists; a node holds this many bytes of it; a node has a feature.
  ClusterBuilder& dataset(const std::string& name, std::int64_t bytes);
  ClusterBuilder& holds(const std::string& node, const std::string& dataset, std::int64_t bytes);
  ClusterBuilder& feature(const std::string& node, const std::string& feature);
  ClusterBuilder& outcome(sched::JobId job, sched::Outcome outcome);
  sched::Snapshot snapshot(std::int64_t now_ms = 0) const;
  static const topo::NodeTopology& fixture(const std::string& name);

 private:
  sched::NodeInput& named(const std::string& node);
  sched::Snapshot s_;
};

}  // namespace sy::test
