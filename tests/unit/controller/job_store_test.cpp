#include <catch2/catch.hpp>

#include "common/job_spec.hpp"
#include "common/topology/topology_file.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/migrations.hpp"
#include "controller/store/node_store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::store;

namespace {

Db open_migrated(const std::string& path) {
  auto db = Db::open(path, Db::Mode::read_write);
  REQUIRE(db.ok());
  auto v = migrate(db.value());
  REQUIRE(v.ok());
  CHECK(v.value() == latest_schema_version());
  return std::move(db).value();
}

// A job of alice's, submitted at 1000 ms.
NewJob job_from(const std::string& yaml, std::optional<std::string> token = std::nullopt) {
  auto spec = job_spec_from_yaml(yaml, "t.yaml");
  REQUIRE(spec.ok());
  return NewJob{spec.value(), "alice", std::move(token), 1000};
}

NewJob new_job(const std::string& name, std::optional<std::string> token = std::nullopt) {
  return job_from("name: " + name + "\ncommand: [run]\nresources: {gpus_per_node: 2}\n",
                  std::move(token));
}

}  // namespace

TEST_CASE("jobs are stored, read back and listed", "[store]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  auto a = store->insert(new_job("a"));
  auto b = store->insert(new_job("b"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->created);
  CHECK(b->id == a->id + 1);

  auto got = store->get(a->id);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  const JobRecord& job = **got;
  CHECK(job.spec.name == "a");
  CHECK(job.user == "alice");
  CHECK(job.state == JobState::pending);
  CHECK(job.submit_ms == 1000);
  REQUIRE(job.events.size() == 1);
  CHECK(job.events[0].event == "submit");

  auto missing = store->get(999);
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());

  auto all = store->list({});
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  auto paged = store->list({{}, std::nullopt, a->id, 10});
  REQUIRE(paged.ok());
  REQUIRE(paged->size() == 1);
  CHECK(paged->front().id == b->id);
}

TEST_CASE("an idempotency token finds the job it created", "[store]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  auto first = store->insert(new_job("a", "token-123456"));
  auto again = store->insert(new_job("a", "token-123456"));
  REQUIRE(first.ok());
  REQUIRE(again.ok());
  CHECK(again->id == first->id);
  CHECK_FALSE(again->created);
  CHECK(store->list({}).value().size() == 1);
}

TEST_CASE("state changes follow the state machine and are recorded", "[store]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  const JobId id = store->insert(new_job("a")).value().id;
  REQUIRE(store->apply_event(id, JobEvent::start_staging, "", 2000).ok());
  auto running = store->apply_event(id, JobEvent::launch, "", 3000);
  REQUIRE(running.ok());
  CHECK(running->start_ms == 3000);
  auto done = store->apply_event(id, JobEvent::complete, "exited 0", 4000, 0);
  REQUIRE(done.ok());
  CHECK(done->state == JobState::completed);
  CHECK(done->end_ms == 4000);
  CHECK(done->exit_code == 0);

  auto illegal = store->apply_event(id, JobEvent::cancel, "", 5000);
  REQUIRE_FALSE(illegal.ok());
  CHECK(illegal.error().code == StoreError::Code::conflict);
  CHECK(illegal.error().message == "job 1: cannot cancel a job that is COMPLETED");
  auto unknown = store->apply_event(42, JobEvent::cancel, "", 5000);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == StoreError::Code::not_found);

  auto read = store->get(id).value().value();
  REQUIRE(read.events.size() == 4);
  CHECK(read.events[3].from == JobState::running);
  CHECK(read.events[3].to == JobState::completed);
  CHECK(read.events[3].reason == "exited 0");

  auto ended = store->list({{JobState::completed}, std::nullopt, 0, 10});
  REQUIRE(ended.ok());
  CHECK(ended->size() == 1);
  auto pending = store->list({{JobState::pending}, std::nullopt, 0, 10});
  CHECK(pending.value().empty());
}

TEST_CASE("data survives reopening, and a newer schema is refused", "[store]") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  {
    Db db = open_migrated(path);
    auto store = JobStore::open(db);
    REQUIRE(store->insert(new_job("kept")).ok());
  }
  {
    Db db = open_migrated(path);  // migrating again is a no-op
    auto store = JobStore::open(db);
    auto jobs = store->list({});
    REQUIRE(jobs.ok());
    REQUIRE(jobs->size() == 1);
    CHECK(jobs->front().spec.name == "kept");
    REQUIRE(db.exec("PRAGMA user_version = 999").ok());
  }
  auto db = Db::open(path, Db::Mode::read_write);
  REQUIRE(db.ok());
  auto v = migrate(db.value());
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().message.find("has schema version 999, newer than this sy-controller knows") !=
        std::string::npos);
}

TEST_CASE("a waiting job's CPUs and memory per GPU are columns the scheduler reads", "[store]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  store
      ->insert(job_from("command: [run]\nresources: {gpus_per_node: 2, cpus_per_gpu: 6, "
                        "memory_per_gpu: 20G}\n"))
      .value();
  store->insert(job_from("command: [run]\n")).value();
  auto waiting = store->waiting();
  REQUIRE(waiting.ok());
  REQUIRE(waiting->size() == 2);
  CHECK(waiting->at(0).cpus_per_gpu == 6);
  CHECK(waiting->at(0).memory_per_gpu_mib == 20 * 1024);
  CHECK(waiting->at(1).cpus_per_gpu == 1);
  CHECK(waiting->at(1).memory_per_gpu_mib == 0);
}

TEST_CASE("a start holds allocations until the job ends, and its record reads back whole",
          "[store]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  const JobId id = store->insert(new_job("a")).value().id;
  const std::string placement = R"({"nodes":[{"node":"n1","gpus":[0,1]}],"ring_link":"NV2"})";
  REQUIRE(store->start_job(id, {{id, "n1", 0b11, 5000, 2, 1024}}, placement, 2000).ok());
  auto allocations = store->allocations();
  REQUIRE(allocations.ok());
  REQUIRE(allocations->size() == 1);
  CHECK(allocations->front().gpus == 0b11);
  CHECK(allocations->front().cpus == 2);  // what the scheduler counts against the node
  CHECK(allocations->front().memory_mib == 1024);
  // A stale decision for a job that is no longer waiting is refused, writing nothing.
  auto again = store->start_job(id, {{id, "n2", 0b1, 5000, 1, 0}}, placement, 2100);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == StoreError::Code::conflict);

  JobRecord job = store->get(id).value().value();
  CHECK(job.state == JobState::staging);
  CHECK(job.placement["ring_link"] == "NV2");
  auto decoded = job_record_from_json(job_record_to_json(job));
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == job);  // every field survives the API's JSON, placement included

  REQUIRE(store->set_reason(id, "r").ok());
  REQUIRE(store->apply_event(id, JobEvent::cancel, "cancelled", 3000).ok());
  CHECK(store->allocations().value().empty());  // ending releases the GPUs
}

TEST_CASE("an array is one row per task, found by 'array_index'", "[store][array]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  REQUIRE(store->insert(new_job("before")).ok());
  NewJob array = job_from("command: [t]\narray: 0-6:3,10%2\n");
  array.client_token = "array-token-1";
  auto r = store->insert(array);
  REQUIRE(r.ok());
  REQUIRE(r->tasks.size() == 4);  // 0, 3, 6, 10
  CHECK(r->id == r->tasks.front());
  auto task = store->find_task(r->id, 6);
  REQUIRE(task.ok());
  CHECK(task.value() == r->tasks[2]);
  auto none = store->find_task(r->id, 1);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto third = store->get(r->tasks[2]);
  REQUIRE(third.ok());
  CHECK((*third)->display_id() == std::to_string(r->id) + "_6");
  auto waiting = store->waiting();
  REQUIRE(waiting.ok());
  CHECK(waiting->back().array_id == r->id);
  CHECK(waiting->back().array_limit == 2);
  // A retried submit finds the whole array, and creates nothing.
  auto again = store->insert(array);
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(again->tasks == r->tasks);
  CHECK(store->list({})->size() == 5);
  // Placed, a task is drawn on its GPUs under the same name.
  REQUIRE(store->start_job(r->tasks[2], {{r->tasks[2], "n1", 0b1, 5000, 0, 0}}, "{}", 100).ok());
  auto placed = store->placed_jobs();
  REQUIRE(placed.ok());
  REQUIRE(placed->size() == 1);
  CHECK(placed->front().label == std::to_string(r->id) + "_6");
}

TEST_CASE("dependencies must name existing jobs", "[store][dependency]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  auto first = store->insert(new_job("first"));
  REQUIRE(first.ok());
  auto ok = store->insert(
      job_from("command: [t]\ndependencies: {after_ok: [" + std::to_string(first->id) + "]}\n"));
  REQUIRE(ok.ok());
  auto waiting = store->waiting();
  REQUIRE(waiting.ok());
  CHECK(waiting->back().after_ok == std::vector<JobId>{first->id});
  auto bad = store->insert(job_from("command: [t]\ndependencies: {after_any: [1, 77]}\n"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == StoreError::Code::invalid);
  CHECK(bad.error().field == "dependencies.after_any[1]");
  CHECK(bad.error().message == "dependencies.after_any[1]: no job 77");
}

TEST_CASE("a recurring job queues its next run when a run ends, not when cancelled",
          "[store][recurring]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  constexpr std::int64_t kHour = 3600 * 1000;
  NewJob recurring = job_from("command: [t]\nevery: 4h\n");
  recurring.now_ms = 10 * kHour;
  auto r = store->insert(recurring);
  REQUIRE(r.ok());
  const JobId id = r->id;
  REQUIRE(store->apply_event(id, JobEvent::start_staging, "", 10 * kHour).ok());
  REQUIRE(store->apply_event(id, JobEvent::launch, "", 10 * kHour).ok());
  // The run took 5 h: the 14:00 boundary is gone, the next is 18:00.
  REQUIRE(store->apply_event(id, JobEvent::fail, "exit 1", 15 * kHour, 1).ok());
  auto waiting = store->waiting();
  REQUIRE(waiting.ok());
  REQUIRE(waiting->size() == 1);
  CHECK(waiting->front().id == id + 1);
  CHECK(waiting->front().begin_ms == 18 * kHour);
  // Cancelling the next run ends the series.
  REQUIRE(store->apply_event(id + 1, JobEvent::cancel, "by alice", 16 * kHour).ok());
  CHECK(store->waiting()->empty());
  // A job that does not recur leaves nothing behind.
  auto plain = store->insert(new_job("plain"));
  REQUIRE(store->apply_event(plain->id, JobEvent::cancel, "", 16 * kHour).ok());
  CHECK(store->waiting()->empty());
}

TEST_CASE("every run that ends is folded into the fair-share ledger as it ends", "[store]") {
  constexpr std::int64_t kHour = 3600 * 1000;
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  store->set_usage_half_life(kHour);
  // Two GPUs (new_job) for an hour, requeued, then for another hour, completed.
  const JobId id = store->insert(new_job("a")).value().id;
  REQUIRE(store->start_job(id, {{id, "n1", 0b11, 9 * kHour, 0, 0}}, "{}", 0).ok());
  REQUIRE(store->apply_event(id, JobEvent::launch, "", 0).ok());
  CHECK(store->running_usage().value().size() == 1);  // running use is read from the job
  REQUIRE(store->apply_event(id, JobEvent::requeue, "node lost", kHour).ok());
  CHECK(store->running_usage().value().empty());
  auto ledger = store->usage_ledger().value();
  CHECK(ledger.by_account.at("alice") == sched::LedgerEntry{7200, kHour});  // no account: user
  REQUIRE(store->start_job(id, {{id, "n1", 0b11, 9 * kHour, 0, 0}}, "{}", 2 * kHour).ok());
  REQUIRE(store->apply_event(id, JobEvent::launch, "", 2 * kHour).ok());
  REQUIRE(store->apply_event(id, JobEvent::complete, "", 3 * kHour, 0).ok());
  ledger = store->usage_ledger().value();
  // The first run decayed by two half-lives to the second's end: both runs count.
  CHECK(ledger.by_user.at("alice").gpu_seconds == Approx(7200 * 0.25 + 7200));
  CHECK(ledger.by_user.at("alice").as_of_ms == 3 * kHour);
  const auto usage = sched::fair_share_usage(ledger, {}, 4 * kHour, kHour);
  CHECK(usage.by_account.at("alice") == Approx((7200 * 0.25 + 7200) * 0.5));
  // A job cancelled while staging ran nothing.
  const JobId staged = store->insert(new_job("b")).value().id;
  REQUIRE(store->start_job(staged, {{staged, "n1", 0b11, 9 * kHour, 0, 0}}, "{}", 0).ok());
  REQUIRE(store->apply_event(staged, JobEvent::cancel, "", 5 * kHour).ok());
  CHECK(store->usage_ledger().value().by_user.at("alice").as_of_ms == 3 * kHour);
  // Filled already: seeding leaves it alone.
  CHECK_FALSE(store->seed_usage_ledger(4 * kHour).value());
}

TEST_CASE("an empty fair-share ledger is filled from the job history once", "[store]") {
  constexpr std::int64_t kHour = 3600 * 1000;
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  store->set_usage_half_life(kHour);
  const JobId id = store->insert(new_job("a")).value().id;
  REQUIRE(store->start_job(id, {{id, "n1", 0b11, 9 * kHour, 0, 0}}, "{}", 0).ok());
  REQUIRE(store->apply_event(id, JobEvent::launch, "", 0).ok());
  REQUIRE(store->apply_event(id, JobEvent::complete, "", kHour, 0).ok());
  const auto folded = store->usage_ledger().value();
  // As a database migrated from before the ledger: history only in the jobs table.
  REQUIRE(db.exec("DELETE FROM fair_share_ledger").ok());
  CHECK(store->seed_usage_ledger(2 * kHour).value());
  CHECK(store->usage_ledger().value().by_user == folded.by_user);
  CHECK_FALSE(store->seed_usage_ledger(2 * kHour).value());
  CHECK(store->usage_ledger().value().by_user == folded.by_user);  // not counted twice
}

TEST_CASE("retention prunes ended jobs past their age, keeping what others depend on",
          "[store][retention]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto store = JobStore::open(db);
  REQUIRE(store.ok());
  auto run_to_end = [&](const std::string& name, std::int64_t end_ms) {
    const JobId id = store->insert(new_job(name)).value().id;
    REQUIRE(store->start_job(id, {{id, "n1", 0b11, end_ms + 1, 0, 0}}, "{}", 100).ok());
    REQUIRE(store->apply_event(id, JobEvent::launch, "", 100).ok());
    REQUIRE(store->apply_event(id, JobEvent::complete, "", end_ms, 0).ok());
    return id;
  };
  const JobId old_a = run_to_end("old-a", 1000);
  const JobId old_b = run_to_end("old-b", 2000);
  const JobId needed = run_to_end("needed", 1500);
  const JobId young = run_to_end("young", 9000);
  const JobId running = store->insert(new_job("running")).value().id;
  REQUIRE(store->start_job(running, {{running, "n2", 0b1, 99999, 0, 0}}, "{}", 100).ok());
  // A waiting job depends on `needed`: that one stays, whatever its age.
  const JobId waiting =
      store
          ->insert(job_from("name: w\ncommand: [run]\ndependencies: {after_ok: [" +
                            std::to_string(needed) + "]}\n"))
          .value()
          .id;

  std::vector<JobRecord> archived;
  auto keep = [&](const std::vector<JobRecord>& jobs) -> Result<void, StoreError> {
    archived.insert(archived.end(), jobs.begin(), jobs.end());
    return {};
  };
  auto pruned = store->prune_ended(5000, 1, keep);  // one per batch
  REQUIRE(pruned.ok());
  CHECK(pruned.value() == std::vector<JobId>{old_a});
  pruned = store->prune_ended(5000, 10, keep);
  REQUIRE(pruned.ok());
  CHECK(pruned.value() == std::vector<JobId>{old_b});
  CHECK(store->prune_ended(5000, 10, keep).value().empty());
  REQUIRE(archived.size() == 2);
  CHECK(archived[0].id == old_a);
  CHECK(archived[0].events.size() == 4);  // submit, staging, launch, complete: the whole record
  for (JobId gone : {old_a, old_b})
    CHECK_FALSE(store->get(gone).value().has_value());
  for (JobId kept : {needed, young, running, waiting})
    CHECK(store->get(kept).value().has_value());
  // Their events are gone; audit rows are younger than the cut-off (written at the real time).
  auto count = [&](const std::string& sql) {
    auto stmt = db.prepare(sql);
    REQUIRE(stmt.ok());
    REQUIRE(stmt->step().value());
    return stmt->column_int(0);
  };
  CHECK(count("SELECT COUNT(*) FROM job_events WHERE job_id IN (" + std::to_string(old_a) + ", " +
              std::to_string(old_b) + ")") == 0);
  CHECK(count("SELECT COUNT(*) FROM allocation_audit WHERE job_id = " + std::to_string(running)) ==
        1);
  // The ledger keeps what the pruned jobs used.
  CHECK(store->usage_ledger().value().by_user.at("alice").gpu_seconds > 0);
  // Ids are never reused after a prune.
  CHECK(store->insert(new_job("next")).value().id > waiting);
}

TEST_CASE("a node's row keeps the agent instance that registered it last", "[store][nodes]") {
  test::TempDir dir;
  Db db = open_migrated(dir.file("s.db"));
  auto nodes = NodeStore::open(db);
  REQUIRE(nodes.ok());
  auto topology = topo::load_node_topology(SY_SOURCE_DIR "/examples/topologies/dgx1-v100.yaml");
  REQUIRE(topology.ok());
  REQUIRE(nodes->register_node("node01", topology.value(), "0.1.0", "first", 1000).ok());
  REQUIRE(nodes->set_alive("node01", false, "no heartbeat", 2000).ok());
  REQUIRE(nodes->register_node("node01", topology.value(), "0.1.0", "second", 3000).ok());
  auto rows = nodes->list();
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK(rows->front().agent_instance == "second");
  CHECK(rows->front().alive);
  CHECK(rows->front().registered_ms == 3000);
}
