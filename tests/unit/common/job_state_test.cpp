#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "common/job_state.hpp"

using namespace sy;
using S = JobState;
using E = JobEvent;

TEST_CASE("the state machine allows exactly the documented transitions", "[state]") {
  // Every legal (from, event) -> to. Anything not listed must be refused.
  const std::map<std::pair<S, E>, S> legal = {
      {{S::pending, E::hold}, S::held},          {{S::pending, E::start_staging}, S::staging},
      {{S::pending, E::fail}, S::failed},        {{S::pending, E::cancel}, S::cancelled},
      {{S::requeued, E::hold}, S::held},         {{S::requeued, E::start_staging}, S::staging},
      {{S::requeued, E::fail}, S::failed},       {{S::requeued, E::cancel}, S::cancelled},
      {{S::held, E::release}, S::pending},       {{S::held, E::cancel}, S::cancelled},
      {{S::staging, E::launch}, S::running},     {{S::staging, E::fail}, S::failed},
      {{S::staging, E::requeue}, S::requeued},   {{S::staging, E::cancel}, S::cancelled},
      {{S::running, E::complete}, S::completed}, {{S::running, E::fail}, S::failed},
      {{S::running, E::requeue}, S::requeued},   {{S::running, E::cancel}, S::cancelled},
  };
  int checked = 0;
  for (S from : kAllJobStates) {
    for (E event : kAllJobEvents) {
      INFO(state_name(from) << " + " << event_name(event));
      auto next = next_state(from, event);
      auto it = legal.find({from, event});
      if (it == legal.end()) {
        REQUIRE_FALSE(next.ok());
        CHECK(next.error() == "cannot " + std::string(event_name(event)) + " a job that is " +
                                  std::string(state_name(from)));
      } else {
        REQUIRE(next.ok());
        CHECK(next.value() == it->second);
      }
      ++checked;
    }
  }
  CHECK(checked == 64);
}

TEST_CASE("terminal states are final and names round-trip", "[state]") {
  std::set<S> terminal;
  for (S s : kAllJobStates) {
    if (is_terminal(s)) terminal.insert(s);
    CHECK(parse_state(state_name(s)) == s);
  }
  CHECK(terminal == std::set<S>{S::completed, S::failed, S::cancelled});
  CHECK(parse_state("running") == S::running);
  CHECK_FALSE(parse_state("DONE").has_value());
  CHECK(is_waiting(S::pending));
  CHECK(is_waiting(S::requeued));
  CHECK_FALSE(is_waiting(S::held));
}
