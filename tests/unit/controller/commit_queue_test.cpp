#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "common/job_spec.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/migrations.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::store;

namespace {

std::unique_ptr<CommitQueue> start_queue(const std::string& path, std::size_t max_batch) {
  auto db = Db::open(path, Db::Mode::read_write);
  REQUIRE(db.ok());
  REQUIRE(migrate(db.value()).ok());
  auto q = CommitQueue::start(std::move(db).value(), max_batch);
  REQUIRE(q.ok());
  return std::move(q).value();
}

NewJob job(int n) {
  auto spec = job_spec_from_yaml("command: [run" + std::to_string(n) + "]\n", "t.yaml");
  REQUIRE(spec.ok());
  return NewJob{spec.value(), "u", "tok-" + std::to_string(n) + "-abcdef", n};
}

// Submits an insert and returns a future for its id (or -1 when it failed).
std::future<JobId> insert(CommitQueue& q, NewJob j) {
  auto promise = std::make_shared<std::promise<JobId>>();
  auto id = std::make_shared<JobId>(-1);
  auto fut = promise->get_future();
  q.submit(
      [j = std::move(j), id](Stores& s) -> Result<void, StoreError> {
        auto r = s.jobs.insert(j);
        if (!r) return fail(std::move(r).error());
        *id = r->id;
        return {};
      },
      [promise, id](Result<void, StoreError> r) { promise->set_value(r ? *id : -1); });
  return fut;
}

}  // namespace

TEST_CASE("concurrent writes are batched and every one is acknowledged after commit", "[commit]") {
  test::TempDir dir;
  auto q = start_queue(dir.file("s.db"), 64);
  constexpr int kThreads = 8, kPerThread = 100;
  std::vector<std::thread> threads;
  std::vector<std::vector<JobId>> ids(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<JobId>> futures;
      for (int i = 0; i < kPerThread; ++i)
        futures.push_back(insert(*q, job(t * kPerThread + i)));
      for (auto& f : futures)
        ids[t].push_back(f.get());
    });
  }
  for (auto& t : threads)
    t.join();
  std::set<JobId> unique;
  for (const auto& v : ids) {
    for (JobId id : v) {
      CHECK(id > 0);
      unique.insert(id);
    }
  }
  CHECK(unique.size() == kThreads * kPerThread);
  const auto stats = q->stats();
  CHECK(stats.operations == kThreads * kPerThread);
  CHECK(stats.batches < stats.operations);  // writes really shared transactions
  CHECK(stats.largest_batch <= 64);

  // Acknowledged means durable: a fresh connection sees every job.
  q->stop();
  auto db = Db::open(dir.file("s.db"), Db::Mode::read_only);
  auto store = JobStore::open(db.value());
  CHECK(store->list({{}, std::nullopt, 0, 10000}).value().size() == kThreads * kPerThread);
}

TEST_CASE("a failing write does not spoil the rest of its batch", "[commit]") {
  test::TempDir dir;
  auto q = start_queue(dir.file("s.db"), 1024);
  auto ok1 = insert(*q, job(1));
  auto bad = std::make_shared<std::promise<bool>>();
  q->submit(
      [](Stores& s) -> Result<void, StoreError> {
        // Writes, then fails: the savepoint must undo the write.
        (void)s.jobs.insert(job(99));
        return fail(StoreError::conflict("refused on purpose"));
      },
      [bad](Result<void, StoreError> r) {
        bad->set_value(!r && r.error().message == "refused on purpose");
      });
  auto ok2 = insert(*q, job(2));
  CHECK(ok1.get() > 0);
  CHECK(bad->get_future().get());
  CHECK(ok2.get() > 0);
  q->stop();
  auto db = Db::open(dir.file("s.db"), Db::Mode::read_only);
  auto store = JobStore::open(db.value());
  auto jobs = store->list({}).value();
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].spec.command[0] == "run1");
  CHECK(jobs[1].spec.command[0] == "run2");
}

TEST_CASE("after stop, writes are refused at once", "[commit]") {
  test::TempDir dir;
  auto q = start_queue(dir.file("s.db"), 8);
  q->stop();
  CHECK(insert(*q, job(1)).get() == -1);
}

TEST_CASE("the change feed names each job a commit moved, once, after the commit", "[commit]") {
  test::TempDir dir;
  auto q = start_queue(dir.file("s.db"), 64);
  std::mutex mutex;
  std::vector<std::vector<JobId>> fed;
  int other = 0, gone = 0;
  q->set_on_jobs_changed(&fed, [&](const std::vector<JobId>& ids) {
    std::lock_guard<std::mutex> lock(mutex);
    fed.push_back(ids);
  });
  // Each subscriber has its own feed; one that unsubscribes hears nothing more.
  q->set_on_jobs_changed(&other, [&](const std::vector<JobId>& ids) {
    std::lock_guard<std::mutex> lock(mutex);
    other += static_cast<int>(ids.size());
  });
  q->set_on_jobs_changed(&gone, [&](const std::vector<JobId>&) { ++gone; });
  q->set_on_jobs_changed(&gone, {});
  const JobId a = insert(*q, job(1)).get();
  const JobId b = insert(*q, job(2)).get();
  // A write that cancels a job, and one that fails before it changes anything: the first job
  // is named again, the second write's not at all.
  std::promise<void> done;
  q->submit(
      [a](Stores& s) -> Result<void, StoreError> {
        auto r = s.jobs.apply_event(a, JobEvent::cancel, "by test", 10);
        if (!r) return fail(r.error());
        return {};
      },
      [](Result<void, StoreError>) {});
  q->submit(
      [](Stores& s) -> Result<void, StoreError> {
        auto r = s.jobs.apply_event(424242, JobEvent::cancel, "no such job", 10);
        if (!r) return fail(r.error());
        return {};
      },
      [&done](Result<void, StoreError> r) {
        CHECK_FALSE(r.ok());
        done.set_value();
      });
  done.get_future().get();
  q->stop();
  std::vector<JobId> all;
  for (const auto& ids : fed) {
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
    all.insert(all.end(), ids.begin(), ids.end());
  }
  CHECK(std::count(all.begin(), all.end(), a) == 2);  // submitted, then cancelled
  CHECK(std::count(all.begin(), all.end(), b) == 1);  // submitted
  CHECK(std::count(all.begin(), all.end(), JobId{424242}) == 0);
  CHECK(other == static_cast<int>(all.size()));
  CHECK(gone == 0);
}
