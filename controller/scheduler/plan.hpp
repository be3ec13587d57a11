#pragma once
// plan(): one scheduling pass. State in, decisions out; no I/O, no clock, no globals.
//
// Jobs are taken in queue order (priority, then fair share, then age). Each starts with all of its
// GPUs or not at all. The first job that cannot start gets a reservation at the earliest time the
// running jobs' time limits free enough GPUs (EASY backfill); later jobs may start now only where
// they cannot delay it: on GPUs the reservation does not need, or ending before it begins.

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
  // Single-node jobs are placed through an index of nodes by (topology, free GPUs) instead of
  // a scan of every node; the property tests hold the two to the same plans.
  bool use_index = true;
  std::vector<std::pair<const placement::PlacementScorer*, int>> scorers;  // with weights
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
  std::vector<std::pair<std::string, int>> scores;  // scorer name -> weighted contribution
  bool operator==(const Start&) const = default;
};

struct Reservation {
  JobId job = 0;
  std::int64_t start_ms = 0;
  std::vector<NodePlacement> placements;
  bool operator==(const Reservation&) const = default;
};

struct Wait {
  JobId job = 0;
  std::string reason;
  bool operator==(const Wait&) const = default;
};

struct Plan {
  std::vector<Start> starts;  // in queue order
  std::optional<Reservation> reservation;
  std::vector<Wait> waits;  // every pending job that does not start, in queue order
  bool operator==(const Plan&) const = default;
};

Plan plan(const Snapshot& snapshot, const Profile& profile);

}  // namespace sy::sched
