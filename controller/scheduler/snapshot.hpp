#pragma once
// The scheduler's input: everything a pass may look at, frozen. Time is a value (now_ms), so the
// live controller and the simulator feed the same function and get the same answer.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/topology/node_topology.hpp"
#include "controller/scheduler/fair_share.hpp"

namespace sy::sched {

using JobId = std::int64_t;
using GpuMask = std::uint64_t;  // bit i: GPU i of a node (nodes have at most 64 GPUs)

// CPUs and memory a node has free for jobs (its total less what running and staging jobs hold).
// A node whose agent did not report them is not limited by them.
struct Room {
  static constexpr std::int64_t kUnlimited = std::int64_t{1} << 60;
  std::int64_t cpus = kUnlimited;
  std::int64_t memory_mib = kUnlimited;
  bool operator==(const Room&) const = default;
};

struct NodeInput {
  std::string name;
  const topo::NodeTopology* topology = nullptr;  // owned by the caller, outlives the pass
  std::string leaf;                              // empty: not under a known leaf switch
  std::string spine;
  bool schedulable = true;  // false when DOWN or DRAINING
  GpuMask free = 0;         // GPUs not held by a running or staging job
  Room room;                // CPUs and memory not held by a running or staging job
  // Bytes of each dataset (by name) the node's Tier-0 cache holds of its current version,
  // counting what is being staged there now.
  std::map<std::string, std::int64_t> cached;
  std::vector<std::string> features;  // sorted; what the administrator says the node has
};

struct Allocation {
  JobId job = 0;
  int node = 0;  // index into Snapshot::nodes
  GpuMask gpus = 0;
  std::int64_t end_ms = 0;  // start + time limit: when the GPUs are free at the latest
  int cpus = 0;             // CPUs and memory it holds on the node
  std::int64_t memory_mib = 0;
};

// What a job that another job depends on has come to.
enum class Outcome {
  active,     // still pending, staging or running
  succeeded,  // completed with exit status 0
  ended,      // failed, cancelled or timed out
};

struct Dependency {
  JobId job = 0;
  bool ok_only = true;  // after_ok: only a success will do; after_any: any end
  bool operator==(const Dependency&) const = default;
};

struct PendingJob {
  JobId id = 0;
  std::string user;
  std::string account;  // fair share is kept per account (the user's name when not given)
  int priority = 0;
  std::int64_t submit_ms = 0;
  int nodes = 1;
  int gpus_per_node = 1;
  int cpus_per_node = 0;  // cpus_per_gpu x gpus_per_node: the CPUs it needs on each node
  std::int64_t memory_per_node_mib = 0;  // likewise memory_per_gpu; 0: not asked for
  std::int64_t time_limit_ms = 0;        // 0: the profile's default
  std::string gpu_model;                 // only nodes whose GPU model contains this (any case)
  std::int64_t min_gpu_memory_mib = 0;
  std::vector<std::string> features;  // sorted; every one must be on the node
  std::vector<std::string> datasets;  // staged to each of the job's nodes before it starts
  std::vector<Dependency> after;      // may start only once these have ended as asked
  std::int64_t begin_ms = 0;          // may not start before (a recurring job's next run)
  std::string label;                  // how people name it, e.g. "12_3"; empty: its id
  JobId array_id = 0;                 // the array's first task's id; 0: not in an array
  int array_limit = 0;                // most tasks of the array staging or running at once; 0: any

  // Only some nodes will do: such jobs are placed by a scan, not through the free-GPU index.
  bool constrained() const {
    return !gpu_model.empty() || min_gpu_memory_mib > 0 || !features.empty();
  }
};

// Whether a node with `room` free can take one node's share of `job`.
inline bool fits(const Room& room, const PendingJob& job) {
  return room.cpus >= job.cpus_per_node && room.memory_mib >= job.memory_per_node_mib;
}
inline Room take(Room room, int cpus, std::int64_t memory_mib) {
  room.cpus -= cpus;
  room.memory_mib -= memory_mib;
  return room;
}
inline Room give_back(Room room, int cpus, std::int64_t memory_mib) {
  room.cpus += cpus;
  room.memory_mib += memory_mib;
  return room;
}

class DataHolding;

struct Snapshot {
  std::int64_t now_ms = 0;
  std::vector<NodeInput> nodes;
  std::vector<Allocation> running;
  std::vector<PendingJob> pending;
  Usage usage;  // decayed GPU-seconds per account and per user (fair_share.hpp)
  std::map<std::string, std::int64_t> dataset_bytes;  // size of each dataset's current version
  std::unordered_map<JobId, Outcome> outcomes;        // of every job a pending job depends on
  std::map<JobId, int> array_active;                  // tasks staging or running, per array
  // The nodes' caches by dataset number, kept up to date by a caller that plans pass after pass
  // (data_holding.hpp); it must say what `nodes[].cached` and `dataset_bytes` say. nullptr: the
  // pass works it out from them.
  const DataHolding* holding = nullptr;
};

}  // namespace sy::sched
