#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/job_spec.hpp"
#include "controller/runtime/queue_state.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/migrations.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::store;

namespace {

NewJob job_from(const std::string& yaml, const std::string& user, std::int64_t now_ms) {
  auto spec = job_spec_from_yaml(yaml, "t.yaml");
  REQUIRE(spec.ok());
  return NewJob{spec.value(), user, std::nullopt, now_ms};
}

std::vector<JobId> ids_of(const std::vector<sched::PendingJob>& jobs) {
  std::vector<JobId> out;
  for (const auto& j : jobs)
    out.push_back(j.id);
  return out;
}

std::vector<JobId> ids_of(const std::vector<WaitingJob>& jobs) {
  std::vector<JobId> out;
  for (const auto& j : jobs)
    out.push_back(j.id);
  return out;
}

// What a pass would read of the table, to compare the copy with.
void same_as_table(const runtime::QueueState& q, JobStore& reads) {
  auto waiting = reads.waiting();
  auto allocations = reads.allocations();
  auto arrays = reads.array_active();
  auto running = reads.running_usage();
  REQUIRE(waiting.ok());
  REQUIRE(allocations.ok());
  REQUIRE(arrays.ok());
  REQUIRE(running.ok());
  CHECK(ids_of(q.pending()) == ids_of(waiting.value()));
  for (const auto& w : waiting.value())
    CHECK(q.reason(w.id) == w.reason);
  const auto all = q.held();
  const auto& held = all.allocations;
  REQUIRE(held.size() == allocations->size());
  for (std::size_t i = 0; i < held.size(); ++i) {
    CHECK(held[i].job == (*allocations)[i].job);
    CHECK(held[i].node == (*allocations)[i].node);
    CHECK(held[i].gpus == (*allocations)[i].gpus);
    CHECK(held[i].cpus == (*allocations)[i].cpus);
  }
  CHECK(all.array_active == arrays.value());
  auto key = [](const std::vector<sched::UsageRecord>& runs) {
    std::vector<std::tuple<std::string, std::string, int, std::int64_t>> out;
    for (const auto& r : runs)
      out.emplace_back(r.account, r.user, r.gpus, r.start_ms);
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(key(all.running_usage) == key(running.value()));
}

}  // namespace

// The copy is fed only the ids the store says it changed (the commit queue's feed) and must
// end up where a whole read of the table is, whatever the jobs went through.
TEST_CASE("the scheduler's copy of the queue, fed job by job, matches the table",
          "[scheduler][queue]") {
  test::TempDir dir;
  auto wdb = Db::open(dir.file("s.db"), Db::Mode::read_write);
  REQUIRE(wdb.ok());
  REQUIRE(migrate(wdb.value()).ok());
  auto writes = JobStore::open(wdb.value());
  REQUIRE(writes.ok());
  auto reads = open_job_reads(dir.file("s.db"));
  REQUIRE(reads.ok());

  runtime::QueueState queue;
  std::mt19937 rng(20261205);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  std::int64_t now = 1000;
  int gpu = 0;
  for (int step = 0; step < 400; ++step) {
    now += 10;
    auto waiting = reads->jobs->waiting();
    REQUIRE(waiting.ok());
    auto held = reads->jobs->allocations();
    REQUIRE(held.ok());
    const int op = pick(10);
    if (op < 3 || waiting->empty()) {
      const std::string yaml =
          pick(4) == 0   ? "command: [t]\narray: 0-3%2\n"
          : pick(3) == 0 ? "command: [t]\naccount: research\nresources: {gpus_per_node: 2}\n"
                         : "command: [t]\n";
      REQUIRE(writes->insert(job_from(yaml, pick(2) ? "alice" : "bob", now)).ok());
    } else if (op < 6) {  // a pass starts a waiting job
      const JobId id =
          (*waiting)[static_cast<std::size_t>(pick(static_cast<int>(waiting->size())))].id;
      const std::uint64_t mask = std::uint64_t{1} << (gpu++ % 8);
      REQUIRE(writes
                  ->start_job(id, {{id, "n" + std::to_string(pick(3)), mask, now + 1000, 2, 64}},
                              "{}", now)
                  .ok());
    } else if (op < 7) {  // a pass writes a reason (no event: the pass tells the copy itself)
      const JobId id =
          (*waiting)[static_cast<std::size_t>(pick(static_cast<int>(waiting->size())))].id;
      const std::string reason = "waits " + std::to_string(step);
      REQUIRE(writes->set_reason(id, reason).ok());
      queue.set_reason(id, reason);
    } else if (!held->empty()) {  // a placed job launches, ends, is requeued or cancelled
      const JobId id = (*held)[static_cast<std::size_t>(pick(static_cast<int>(held->size())))].job;
      const JobEvent events[] = {JobEvent::launch, JobEvent::complete, JobEvent::requeue,
                                 JobEvent::cancel};
      (void)writes->apply_event(id, events[pick(4)], "by test", now, 0);  // some are illegal
    }
    queue.mark(writes->take_changed());
    if (pick(3) == 0) {
      REQUIRE(queue.refresh(*reads->jobs).ok());
      same_as_table(queue, *reads->jobs);
    }
  }
  REQUIRE(queue.refresh(*reads->jobs).ok());
  same_as_table(queue, *reads->jobs);
  CHECK(queue.waiting_count() > 0);
  CHECK_FALSE(queue.held().allocations.empty());
  CHECK_FALSE(queue.held().running_usage.empty());
  CHECK_FALSE(queue.held().array_active.empty());
}

TEST_CASE("a job the feed does not name is not seen: the copy is only as fresh as its marks",
          "[scheduler][queue]") {
  test::TempDir dir;
  auto wdb = Db::open(dir.file("s.db"), Db::Mode::read_write);
  REQUIRE(wdb.ok());
  REQUIRE(migrate(wdb.value()).ok());
  auto writes = JobStore::open(wdb.value());
  REQUIRE(writes.ok());
  auto reads = open_job_reads(dir.file("s.db"));
  REQUIRE(reads.ok());
  const JobId first = writes->insert(job_from("command: [t]\n", "alice", 1000)).value().id;
  (void)writes->take_changed();
  runtime::QueueState queue;
  REQUIRE(queue.refresh(*reads->jobs).ok());  // whole: finds the job without a mark
  CHECK(ids_of(queue.pending()) == std::vector<JobId>{first});
  const JobId second = writes->insert(job_from("command: [t]\n", "bob", 1010)).value().id;
  REQUIRE(queue.refresh(*reads->jobs).ok());  // nothing marked: nothing read
  CHECK(ids_of(queue.pending()) == std::vector<JobId>{first});
  queue.mark(writes->take_changed());
  REQUIRE(queue.refresh(*reads->jobs).ok());
  CHECK(ids_of(queue.pending()) == std::vector<JobId>{first, second});
}
