#pragma once
// Turns what the controller knows (waiting jobs, allocations, the node registry) into the
// scheduler's Snapshot, and a Start back into the rows and explanation the store keeps.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/job_record.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/scheduler/plan.hpp"
#include "controller/store/dataset_store.hpp"
#include "controller/store/job_store.hpp"

namespace sy::runtime {

struct PassInput {
  std::vector<nodes::NodeView> nodes;  // the snapshot points into these
  sched::Snapshot snapshot;
};

// `datasets`: the registry's current versions. A node counts as holding a dataset when its
// agent reported the current version in its cache (an older version is staged anew).
PassInput build_pass_input(std::vector<nodes::NodeView> nodes,
                           std::vector<sched::PendingJob> pending,
                           const std::vector<store::AllocationRow>& allocations,
                           std::int64_t now_ms,
                           const std::vector<store::DatasetRow>& datasets = {});
// The same from the waiting jobs' rows.
PassInput build_pass_input(std::vector<nodes::NodeView> nodes,
                           const std::vector<store::WaitingJob>& waiting,
                           const std::vector<store::AllocationRow>& allocations,
                           std::int64_t now_ms,
                           const std::vector<store::DatasetRow>& datasets = {});

// A waiting job's row as the scheduler takes it.
sched::PendingJob pending_job(const store::WaitingJob& j);

// What the scheduler calls the state of a job another depends on.
sched::Outcome outcome_of(JobState state);

std::vector<store::AllocationRow> allocation_rows(const PassInput& in, const sched::Start& start,
                                                  std::int64_t end_ms);
nlohmann::json placement_json(const PassInput& in, const sched::Start& start,
                              const std::string& profile);

}  // namespace sy::runtime
