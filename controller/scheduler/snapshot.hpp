#pragma once
// The scheduler's input: everything a pass may look at, frozen. Time is a value (now_ms), so the
// live controller and the simulator feed the same function and get the same answer.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/topology/node_topology.hpp"

namespace sy::sched {

using JobId = std::int64_t;
using GpuMask = std::uint64_t;  // bit i: GPU i of a node (nodes have at most 64 GPUs)

struct NodeInput {
  std::string name;
  const topo::NodeTopology* topology = nullptr;  // owned by the caller, outlives the pass
  std::string leaf;                              // empty: not under a known leaf switch
  std::string spine;
  bool schedulable = true;  // false when DOWN or DRAINING
  GpuMask free = 0;         // GPUs not held by a running or staging job
};

struct Allocation {
  JobId job = 0;
  int node = 0;  // index into Snapshot::nodes
  GpuMask gpus = 0;
  std::int64_t end_ms = 0;  // start + time limit: when the GPUs are free at the latest
};

struct PendingJob {
  JobId id = 0;
  std::string user;
  std::string account;  // fair share is kept per account (the user's name when not given)
  int priority = 0;
  std::int64_t submit_ms = 0;
  int nodes = 1;
  int gpus_per_node = 1;
  std::int64_t time_limit_ms = 0;  // 0: the profile's default
  std::string gpu_model;           // only nodes whose GPU model contains this (any case)
  std::int64_t min_gpu_memory_mib = 0;

  bool constrained() const { return !gpu_model.empty() || min_gpu_memory_mib > 0; }
};

struct Snapshot {
  std::int64_t now_ms = 0;
  std::vector<NodeInput> nodes;
  std::vector<Allocation> running;
  std::vector<PendingJob> pending;
  std::map<std::string, double> usage;  // decayed GPU-seconds per account (fair_share.hpp)
};

}  // namespace sy::sched
