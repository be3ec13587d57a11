#pragma once
// plan(): one scheduling pass. State in, decisions out; no I/O, no clock, no globals.
//
// Jobs are taken in queue order (priority, then fair share, then age). Each starts with all of its
// GPUs or not at all. The first job that cannot start gets a reservation at the earliest time the
// running jobs' time limits free enough GPUs (EASY backfill); later jobs may start now only where
// they cannot delay it: on GPUs the reservation does not need, or ending before it begins.
// Jobs that may not start yet whatever is free (dependencies, a begin time, an array's limit)
// wait without holding anything back. The reserved job's datasets are pre-staged on the nodes
// it is reserved on, so staging overlaps its wait.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controller/scheduler/snapshot.hpp"
#include "plugins/placement/placement_scorer.hpp"

namespace sy::sched {

struct Profile {
  std::string name = "switchyard";
  bool backfill = true;
  int backfill_depth = 1000;                         // jobs looked at after the reservation
  std::int64_t default_time_limit_ms = 3600 * 1000;  // for jobs without one
  bool topology_aware = true;                        // false: first fit (the fifo-firstfit profile)
  // false: GPUs by index inside a node and no switch grouping across nodes, while the scorers
  // still rank nodes (the simulator's switchyard-no-topology ablation).
  bool interconnect_aware = true;
  // Single-node jobs are placed through an index of nodes by (topology, free GPUs) instead of
  // a scan of every node; the property tests hold the two to the same plans.
  bool use_index = true;
  std::vector<std::pair<const placement::PlacementScorer*, int>> scorers;  // with weights
  // What the data-affinity scorer counts staging time with.
  double staging_bytes_per_s = 1e9;
  std::int64_t staging_horizon_ms = 600 * 1000;  // this long to stage or more: no affinity left
};

struct NodePlacement {
  int node = 0;
  GpuMask gpus = 0;
  bool operator==(const NodePlacement&) const = default;
};

struct Start {
  JobId job = 0;
  std::vector<NodePlacement> placements;
  double ring_gbps = 0;  // slowest ring inside any one node of the gang
  bool backfilled = false;
  std::int64_t staging_ms = 0;  // estimated time to stage what its nodes lack of its datasets
  std::int64_t end_ms = 0;      // now + its time limit: when its GPUs are free at the latest
  std::vector<std::pair<std::string, int>> scores;  // scorer name -> weighted contribution
  int cpus_per_node = 0;  // what it holds on each of its nodes besides GPUs
  std::int64_t memory_per_node_mib = 0;
  bool operator==(const Start&) const = default;
};

struct Reservation {
  JobId job = 0;
  std::int64_t start_ms = 0;
  std::vector<NodePlacement> placements;
  std::string label;  // the job's label, for the reasons of the jobs behind it
  bool operator==(const Reservation&) const = default;
};

enum class WaitWhy {
  resources,       // not enough suitable GPUs free; other: the reserved job, at_ms: its start
  reserved,        // the reservation holder; at_ms: its start
  never_fits,      // not even an empty cluster of the nodes that are up would do
  strict_order,    // no backfill and a job ahead waits; other: that job
  backfill_depth,  // beyond how many jobs backfill looks at; count: the depth
  dependency,      // other: a job it depends on that has not ended as asked yet
  begin_time,      // at_ms: when it may start
  array_limit,     // other: the array; count: its limit of tasks at once
};

// Why a job does not start, as values: the text (explain_wait) is made only where it is shown
// or where it changed, not for every waiting job on every pass.
struct Wait {
  JobId job = 0;
  WaitWhy why = WaitWhy::resources;
  JobId other = 0;
  std::int64_t at_ms = 0;
  int count = 0;
  bool operator==(const Wait&) const = default;
};

// A dataset to copy to a node ahead of the job that is reserved there.
struct PreStage {
  JobId job = 0;
  int node = 0;
  std::string dataset;
  std::int64_t bytes = 0;  // what the node lacks of it
  bool operator==(const PreStage&) const = default;
};

// A job that can never start: a job it needs to succeed has ended otherwise.
struct Drop {
  JobId job = 0;
  JobId dependency = 0;
  bool operator==(const Drop&) const = default;
};

struct Plan {
  std::vector<Start> starts;  // in queue order
  std::optional<Reservation> reservation;
  std::vector<Wait> waits;  // every pending job that neither starts nor is dropped, in queue order
  std::vector<PreStage> prestage;
  std::vector<Drop> drops;
  std::int64_t wake_ms = 0;  // the earliest begin time still ahead, 0 if none: plan again then
  bool operator==(const Plan&) const = default;
};

class OptionMemo;
// `memo`: what earlier passes worked out of the nodes' GPUs, to reuse (option_memo.hpp); the
// plan is the same with it or without it.
Plan plan(const Snapshot& snapshot, const Profile& profile, OptionMemo* memo = nullptr);

// The one-line reason shown by `sy queue` and `sy show`, e.g. "waiting for 16 GPUs (2 nodes x 8
// GPUs); reserved to start at 14:02 UTC under leaf2".
std::string explain_wait(const Snapshot& snapshot, const Plan& plan, const PendingJob& job,
                         const Wait& wait);

}  // namespace sy::sched
