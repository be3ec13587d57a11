#include "common/job_state.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace sy {

Result<JobState, std::string> next_state(JobState from, JobEvent event) {
  using S = JobState;
  using E = JobEvent;
  std::optional<S> to;
  switch (from) {
    case S::pending:
    case S::requeued:
      if (event == E::hold) to = S::held;
      if (event == E::start_staging) to = S::staging;
      if (event == E::fail) to = S::failed;  // e.g. a request no node can ever satisfy
      break;
    case S::held:
      if (event == E::release) to = S::pending;
      break;
    case S::staging:
      if (event == E::launch) to = S::running;
      if (event == E::fail) to = S::failed;
      if (event == E::requeue) to = S::requeued;
      break;
    case S::running:
      if (event == E::complete) to = S::completed;
      if (event == E::fail) to = S::failed;
      if (event == E::requeue) to = S::requeued;
      break;
    case S::completed:
    case S::failed:
    case S::cancelled:
      break;
  }
  if (event == E::cancel && !is_terminal(from)) to = S::cancelled;
  if (!to) {
    return fail("cannot " + std::string(event_name(event)) + " a job that is " +
                std::string(state_name(from)));
  }
  return *to;
}

bool is_terminal(JobState s) {
  return s == JobState::completed || s == JobState::failed || s == JobState::cancelled;
}

bool is_waiting(JobState s) {
  return s == JobState::pending || s == JobState::requeued;
}

std::string_view state_name(JobState s) {
  switch (s) {
    case JobState::pending:
      return "PENDING";
    case JobState::held:
      return "HELD";
    case JobState::staging:
      return "STAGING";
    case JobState::running:
      return "RUNNING";
    case JobState::completed:
      return "COMPLETED";
    case JobState::failed:
      return "FAILED";
    case JobState::cancelled:
      return "CANCELLED";
    case JobState::requeued:
      return "REQUEUED";
  }
  return "PENDING";
}

std::optional<JobState> parse_state(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (JobState s : kAllJobStates) {
    if (state_name(s) == upper) return s;
  }
  return std::nullopt;
}

std::string_view event_name(JobEvent e) {
  switch (e) {
    case JobEvent::hold:
      return "hold";
    case JobEvent::release:
      return "release";
    case JobEvent::start_staging:
      return "start staging";
    case JobEvent::launch:
      return "launch";
    case JobEvent::complete:
      return "complete";
    case JobEvent::fail:
      return "fail";
    case JobEvent::cancel:
      return "cancel";
    case JobEvent::requeue:
      return "requeue";
  }
  return "?";
}

}  // namespace sy
