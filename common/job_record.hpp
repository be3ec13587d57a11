#pragma once
// JobRecord: a job as the controller keeps it and the API shows it (spec + who + where it is
// in its life). The JSON form is the API's; the CLI reads it back with job_record_from_json.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/job_spec.hpp"
#include "common/job_state.hpp"
#include "common/result.hpp"

namespace sy {

using JobId = std::int64_t;

struct JobEventRecord {
  std::int64_t at_ms = 0;
  std::string event;  // "submit", "cancel", ...
  std::optional<JobState> from;
  JobState to = JobState::pending;
  std::string reason;
  bool operator==(const JobEventRecord&) const = default;
};

struct JobRecord {
  JobId id = 0;
  JobSpec spec;
  std::string user;
  JobState state = JobState::pending;
  std::string reason;  // why it waits or how it ended; empty when there is nothing to say
  std::int64_t submit_ms = 0;
  std::int64_t updated_ms = 0;
  std::optional<std::int64_t> start_ms;
  std::optional<std::int64_t> end_ms;
  std::optional<int> exit_code;
  std::vector<JobEventRecord> events;  // filled by single-job reads only
  // The scheduling decision for a placed job: nodes, GPUs, ring, scores (see docs/api.md).
  nlohmann::json placement;  // null while it waits
  // The stage orders it waits or waited for (one per node and dataset, and again where one was
  // cut short), as the agents last reported them; null when there are none. Filled by the API
  // from the controller's memory (recent orders only), never stored.
  nlohmann::json staging;
  std::optional<JobId> array_id;  // a task of a job array: the array (its first task's id)
  std::optional<int> array_index;
  std::int64_t begin_ms = 0;  // not to start before (a recurring job's next run); 0: at once

  // "12" or, for a task of an array, "12_3" as Slurm writes them.
  std::string display_id() const;
  bool operator==(const JobRecord&) const = default;
};

// A job as people name it: "12", or "12_3" for the task with index 3 of array 12 (what
// display_id() writes). nullopt for anything else.
struct JobRef {
  JobId id = 0;
  std::optional<int> task;
};
std::optional<JobRef> parse_job_ref(std::string_view text);

nlohmann::json job_record_to_json(const JobRecord& job);
Result<JobRecord, std::string> job_record_from_json(const nlohmann::json& j);

}  // namespace sy
