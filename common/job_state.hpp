#pragma once
// The job state machine: the only place that says which state changes are legal.
//
//   PENDING --start_staging--> STAGING --launch--> RUNNING --complete--> COMPLETED
//      |  ^                      |                    |---fail--------> FAILED
//    hold release                |--requeue--> REQUEUED (waits again, like PENDING)
//      v  |                      (cancel from any live state --> CANCELLED)
//     HELD

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sy {

enum class JobState { pending, held, staging, running, completed, failed, cancelled, requeued };
enum class JobEvent { hold, release, start_staging, launch, complete, fail, cancel, requeue };

inline constexpr JobState kAllJobStates[] = {
    JobState::pending,   JobState::held,   JobState::staging,   JobState::running,
    JobState::completed, JobState::failed, JobState::cancelled, JobState::requeued};
inline constexpr JobEvent kAllJobEvents[] = {
    JobEvent::hold,     JobEvent::release, JobEvent::start_staging, JobEvent::launch,
    JobEvent::complete, JobEvent::fail,    JobEvent::cancel,        JobEvent::requeue};

// The state after `event`, or why the event is not allowed in `from`
// (e.g. "cannot cancel a job that is COMPLETED").
Result<JobState, std::string> next_state(JobState from, JobEvent event);

bool is_terminal(JobState state);
// Waiting for resources: PENDING or REQUEUED.
bool is_waiting(JobState state);

std::string_view state_name(JobState state);                 // "PENDING", ...
std::optional<JobState> parse_state(std::string_view name);  // case-insensitive
std::string_view event_name(JobEvent event);                 // "cancel", ...

}  // namespace sy
