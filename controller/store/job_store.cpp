#include "controller/store/job_store.hpp"

#include <nlohmann/json.hpp>

#include "common/comma_list.hpp"

namespace sy::store {
namespace {

constexpr const char* kJobColumns =
    "id, user_name, state, reason, spec_json, submit_ms, updated_ms, start_ms, end_ms, exit_code, "
    "placement_json, array_id, array_index, begin_ms";

std::vector<std::int64_t> split_ids(const std::string& text) {
  std::vector<std::int64_t> out;
  for (const auto& s : split_commas(text))
    out.push_back(std::stoll(s));
  return out;
}

}  // namespace

Result<JobStore, StoreError> JobStore::open(Db& db) {
  JobStore store(db);
  auto prepared = db.prepare_all({
      {&store.find_token_, "SELECT id FROM jobs WHERE client_token = ?1"},
      {&store.insert_job_,
       "INSERT INTO jobs (name, user_name, account, state, priority, nodes, gpus_per_node, "
       "time_limit_s, spec_json, client_token, submit_ms, updated_ms, gpu_model, gpu_memory_mib, "
       "features, datasets, after_ok, after_any, begin_ms, every_s, array_id, array_index, "
       "array_limit, cpus_per_gpu, memory_per_gpu_mib) "
       "VALUES (?1, ?2, ?3, 'PENDING', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14, ?15, "
       "?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"},
      {&store.set_array_id_, "UPDATE jobs SET array_id = id WHERE id = ?1"},
      {&store.find_task_, "SELECT id FROM jobs WHERE array_id = ?1 AND array_index = ?2"},
      {&store.job_exists_, "SELECT 1 FROM jobs WHERE id = ?1"},
      {&store.insert_event_,
       "INSERT INTO job_events (job_id, at_ms, event, from_state, to_state, reason) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&store.get_job_, std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?1"},
      {&store.get_events_,
       "SELECT at_ms, event, from_state, to_state, reason FROM job_events "
       "WHERE job_id = ?1 ORDER BY seq"},
      {&store.update_state_,
       "UPDATE jobs SET state = ?2, reason = ?3, updated_ms = ?4, "
       "start_ms = COALESCE(?5, start_ms), end_ms = COALESCE(?6, end_ms), "
       "exit_code = COALESCE(?7, exit_code) WHERE id = ?1"},
      {&store.insert_allocation_,
       "INSERT INTO allocations (job_id, node, gpus, end_ms, cpus, memory_mib) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&store.delete_allocations_, "DELETE FROM allocations WHERE job_id = ?1"},
      {&store.set_reason_, "UPDATE jobs SET reason = ?2 WHERE id = ?1 AND reason != ?2"},
      {&store.set_placement_, "UPDATE jobs SET placement_json = ?2 WHERE id = ?1"},
      {&store.list_allocations_,
       "SELECT job_id, node, gpus, end_ms, cpus, memory_mib FROM allocations "
       "ORDER BY job_id, node"},
      {&store.get_ledger_,
       "SELECT gpu_seconds, as_of_ms FROM fair_share_ledger WHERE kind = ?1 AND name = ?2"},
      {&store.put_ledger_,
       "INSERT OR REPLACE INTO fair_share_ledger (kind, name, gpu_seconds, as_of_ms) "
       "VALUES (?1, ?2, ?3, ?4)"},
  });
  if (!prepared) return fail(std::move(prepared).error());
  return store;
}

Result<SubmitOutcome, StoreError> JobStore::insert(const NewJob& job) {
  if (job.client_token) {
    find_token_.bind(1, std::string_view(*job.client_token));
    auto row = find_token_.step();
    if (!row) {
      find_token_.reset();
      return fail(std::move(row).error());
    }
    if (row.value()) {
      const JobId existing = find_token_.column_int(0);
      find_token_.reset();
      SubmitOutcome repeat{existing, {}, false};
      if (job.spec.array) {
        auto tasks = array_tasks(existing);
        if (!tasks) return fail(std::move(tasks).error());
        repeat.tasks = std::move(tasks).value();
      }
      return repeat;
    }
    find_token_.reset();
  }
  // Dependencies must name jobs that exist: a typo would otherwise wait forever.
  for (const auto* list : {&job.spec.after_ok, &job.spec.after_any}) {
    const char* key = list == &job.spec.after_ok ? "after_ok" : "after_any";
    for (std::size_t i = 0; i < list->size(); ++i) {
      job_exists_.bind(1, (*list)[i]);
      auto row = job_exists_.step();
      job_exists_.reset();
      if (!row) return fail(std::move(row).error());
      if (!row.value()) {
        return fail(
            StoreError::invalid("dependencies." + std::string(key) + "[" + std::to_string(i) + "]",
                                "dependencies." + std::string(key) + "[" + std::to_string(i) +
                                    "]: no job " + std::to_string((*list)[i])));
      }
    }
  }
  if (!job.spec.array) {
    auto id = insert_one(job, std::nullopt, std::nullopt, true);
    if (!id) return fail(std::move(id).error());
    return SubmitOutcome{id.value(), {}, true};
  }
  SubmitOutcome out;
  for (int index : job.spec.array->indices) {
    const std::optional<JobId> array =
        out.tasks.empty() ? std::nullopt : std::optional<JobId>(out.tasks.front());
    auto id = insert_one(job, array, index, out.tasks.empty());
    if (!id) return fail(std::move(id).error());
    if (out.tasks.empty()) {
      set_array_id_.bind(1, id.value());
      if (auto r = set_array_id_.run(); !r) return fail(std::move(r).error());
    }
    out.tasks.push_back(id.value());
  }
  out.id = out.tasks.front();
  return out;
}

Result<JobId, StoreError> JobStore::insert_one(const NewJob& job, std::optional<JobId> array_id,
                                               std::optional<int> array_index, bool with_token) {
  const JobSpec& s = job.spec;
  insert_job_.bind(1, std::string_view(s.name))
      .bind(2, std::string_view(job.user))
      .bind(3, s.account)
      .bind(4, std::int64_t{s.priority})
      .bind(5, std::int64_t{s.resources.nodes})
      .bind(6, std::int64_t{s.resources.gpus_per_node})
      .bind(7, s.time_limit_s)
      .bind(8, std::string_view(job_spec_to_json(s).dump()))
      .bind(9, with_token ? job.client_token : std::nullopt)
      .bind(10, job.now_ms)
      .bind(11, s.resources.gpu_model)
      .bind(12, s.resources.gpu_memory_mib)
      .bind(13, std::string_view(join_commas(s.resources.features)))
      .bind(14, std::string_view(join_commas(s.datasets)))
      .bind(15, std::string_view(join_commas(s.after_ok)))
      .bind(16, std::string_view(join_commas(s.after_any)))
      .bind(17, job.begin_ms)
      .bind(18, s.every_s)
      .bind(19, array_id)
      .bind(20, array_index ? std::optional<std::int64_t>(*array_index) : std::nullopt)
      .bind(21, std::int64_t{s.array ? s.array->limit : 0})
      .bind(22, std::int64_t{s.resources.cpus_per_gpu})
      .bind(23, s.resources.memory_per_gpu_mib.value_or(0));
  if (auto r = insert_job_.run(); !r) return fail(std::move(r).error());
  const JobId id = db_->last_insert_rowid();
  const std::string why = job.begin_ms > 0 ? "next run of a recurring job" : "";
  if (auto r = add_event(id, job.now_ms, "submit", std::nullopt, JobState::pending, why); !r) {
    return fail(std::move(r).error());
  }
  return id;
}

Result<std::optional<JobId>, StoreError> JobStore::find_task(JobId array_id, int index) {
  find_task_.bind(1, array_id).bind(2, std::int64_t{index});
  auto row = find_task_.step();
  std::optional<JobId> out;
  if (row && row.value()) out = find_task_.column_int(0);
  find_task_.reset();
  if (!row) return fail(std::move(row).error());
  return out;
}

Result<std::vector<JobId>, StoreError> JobStore::array_tasks(JobId array_id) {
  auto stmt = db_->prepare("SELECT id FROM jobs WHERE array_id = ?1 ORDER BY array_index");
  if (!stmt) return fail(std::move(stmt).error());
  stmt->bind(1, array_id);
  std::vector<JobId> out;
  auto walked = stmt->each([&] { out.push_back(stmt->column_int(0)); });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

Result<void, StoreError> JobStore::queue_next_run(const JobRecord& ended, std::int64_t now_ms) {
  const std::int64_t period = *ended.spec.every_s * 1000;
  const std::int64_t due = ended.begin_ms > 0 ? ended.begin_ms : ended.submit_ms;
  // Like cron: the first boundary after now, so a run that overlapped boundaries skips them.
  const std::int64_t next = due + ((now_ms - due) / period + 1) * period;
  NewJob successor{ended.spec, ended.user, std::nullopt, now_ms, next};
  auto id = insert_one(successor, std::nullopt, std::nullopt, false);
  if (!id) return fail(std::move(id).error());
  return {};
}

Result<void, StoreError> JobStore::add_event(JobId id, std::int64_t at_ms, std::string_view event,
                                             std::optional<JobState> from, JobState to,
                                             const std::string& reason) {
  changed_.push_back(id);
  insert_event_.bind(1, id).bind(2, at_ms).bind(3, event);
  if (from) {
    insert_event_.bind(4, state_name(*from));
  } else {
    insert_event_.bind_null(4);
  }
  insert_event_.bind(5, state_name(to)).bind(6, std::string_view(reason));
  return insert_event_.run();
}

Result<JobRecord, StoreError> JobStore::row_to_record(const Statement& row) const {
  JobRecord job;
  job.id = row.column_int(0);
  job.user = row.column_text(1);
  auto state = parse_state(row.column_text(2));
  if (!state)
    return fail(
        StoreError::internal("job " + std::to_string(job.id) + " has state " + row.column_text(2)));
  job.state = *state;
  job.reason = row.column_text(3);
  auto json = nlohmann::json::parse(row.column_text(4), nullptr, false);
  auto spec = job_spec_from_stored_json(json);
  if (!spec) {
    return fail(StoreError::internal("job " + std::to_string(job.id) +
                                     " has an unreadable spec: " + spec.error().to_string()));
  }
  job.spec = std::move(spec).value();
  job.submit_ms = row.column_int(5);
  job.updated_ms = row.column_int(6);
  job.start_ms = row.column_optional_int(7);
  job.end_ms = row.column_optional_int(8);
  if (auto code = row.column_optional_int(9)) job.exit_code = static_cast<int>(*code);
  if (auto placement = row.column_optional_text(10)) {
    job.placement = nlohmann::json::parse(*placement, nullptr, false);
  }
  job.array_id = row.column_optional_int(11);
  if (auto index = row.column_optional_int(12)) job.array_index = static_cast<int>(*index);
  job.begin_ms = row.column_int(13);
  return job;
}

Result<std::optional<JobRecord>, StoreError> JobStore::get(JobId id) {
  get_job_.bind(1, id);
  auto row = get_job_.step();
  if (!row || !row.value()) {
    get_job_.reset();
    if (!row) return fail(std::move(row).error());
    return std::optional<JobRecord>();
  }
  auto job = row_to_record(get_job_);
  get_job_.reset();
  if (!job) return fail(std::move(job).error());
  get_events_.bind(1, id);
  auto walked = get_events_.each([&] {
    JobEventRecord e;
    e.at_ms = get_events_.column_int(0);
    e.event = get_events_.column_text(1);
    if (auto from = get_events_.column_optional_text(2)) e.from = parse_state(*from);
    e.to = parse_state(get_events_.column_text(3)).value_or(JobState::pending);
    e.reason = get_events_.column_text(4);
    job->events.push_back(std::move(e));
  });
  if (!walked) return fail(std::move(walked).error());
  return std::optional<JobRecord>(std::move(job).value());
}

Result<std::vector<JobRecord>, StoreError> JobStore::records(Statement& stmt) const {
  std::vector<JobRecord> out;
  auto walked = stmt.each([&]() -> Result<void, StoreError> {
    auto job = row_to_record(stmt);
    if (!job) return fail(std::move(job).error());
    out.push_back(std::move(job).value());
    return {};
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

Result<std::vector<JobRecord>, StoreError> JobStore::list(const JobFilter& filter) {
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id > ?1";
  int next = 2;
  if (filter.user) sql += " AND user_name = ?" + std::to_string(next++);
  const int first_state = next;
  if (!filter.states.empty()) {
    sql += " AND state IN (";
    for (std::size_t i = 0; i < filter.states.size(); ++i) {
      sql += (i ? ", ?" : "?") + std::to_string(next++);
    }
    sql += ")";
  }
  sql += " ORDER BY id LIMIT ?" + std::to_string(next);
  auto stmt = db_->prepare(sql);
  if (!stmt) return fail(std::move(stmt).error());
  stmt->bind(1, filter.after_id);
  if (filter.user) stmt->bind(2, std::string_view(*filter.user));
  int index = first_state;
  for (JobState s : filter.states)
    stmt->bind(index++, state_name(s));
  stmt->bind(next, std::int64_t{filter.limit});
  return records(stmt.value());
}

Result<std::vector<JobRecord>, StoreError> JobStore::running_on(const std::string& node) {
  auto stmt = db_->prepare(std::string("SELECT ") + kJobColumns +
                           " FROM jobs WHERE state = 'RUNNING' AND id IN "
                           "(SELECT job_id FROM allocations WHERE node = ?1) ORDER BY id");
  if (!stmt) return fail(std::move(stmt).error());
  stmt->bind(1, std::string_view(node));
  return records(stmt.value());
}

Result<JobRecord, StoreError> JobStore::apply_event(JobId id, JobEvent event,
                                                    const std::string& reason, std::int64_t now_ms,
                                                    std::optional<int> exit_code) {
  auto found = get(id);
  if (!found) return fail(std::move(found).error());
  if (!found.value())
    return fail(StoreError::not_found("job " + std::to_string(id) + " not found"));
  JobRecord job = std::move(*found.value());
  auto to = next_state(job.state, event);
  if (!to) return fail(StoreError::conflict("job " + std::to_string(id) + ": " + to.error()));
  const JobState from = job.state;
  std::optional<std::int64_t> start, end;
  if (to.value() == JobState::running) start = now_ms;
  if (is_terminal(to.value())) end = now_ms;
  update_state_.bind(1, id)
      .bind(2, state_name(to.value()))
      .bind(3, std::string_view(reason))
      .bind(4, now_ms)
      .bind(5, start)
      .bind(6, end)
      .bind(7, exit_code ? std::optional<std::int64_t>(*exit_code) : std::nullopt);
  if (auto r = update_state_.run(); !r) return fail(std::move(r).error());
  if (auto r = add_event(id, now_ms, event_name(event), from, to.value(), reason); !r) {
    return fail(std::move(r).error());
  }
  if (from == JobState::running && job.start_ms &&
      (is_terminal(to.value()) || to.value() == JobState::requeued)) {
    const double used = job.spec.total_gpus() *
                        static_cast<double>(std::max<std::int64_t>(now_ms - *job.start_ms, 0)) /
                        1000.0;
    if (auto r = fold_usage("account", job.spec.account.value_or(job.user), used, now_ms); !r) {
      return fail(std::move(r).error());
    }
    if (auto r = fold_usage("user", job.user, used, now_ms); !r) return fail(std::move(r).error());
  }
  if (is_terminal(to.value()) || to.value() == JobState::requeued) {
    delete_allocations_.bind(1, id);
    if (auto r = delete_allocations_.run(); !r) return fail(std::move(r).error());
  }
  // A recurring job's series goes on after every run that ended on its own; cancelling ends it.
  if (job.spec.every_s && is_terminal(to.value()) && to.value() != JobState::cancelled) {
    if (auto r = queue_next_run(job, now_ms); !r) return fail(std::move(r).error());
  }
  job.state = to.value();
  job.reason = reason;
  job.updated_ms = now_ms;
  if (start) job.start_ms = start;
  if (end) job.end_ms = end;
  if (exit_code) job.exit_code = exit_code;
  job.events.push_back({now_ms, std::string(event_name(event)), from, to.value(), reason});
  return job;
}

Result<std::vector<PlacedJobRow>, StoreError> JobStore::placed_jobs() {
  auto stmt = db_->prepare(
      "SELECT id, array_id, array_index, name, user_name, state, "
      "COALESCE(json_extract(placement_json, '$.ring_link'), ''), "
      "json_extract(placement_json, '$.ring_gbps') IS NULL, "
      "COALESCE(json_extract(placement_json, '$.ring_gbps'), 0) "
      "FROM jobs WHERE state IN ('STAGING', 'RUNNING') ORDER BY id");
  if (!stmt) return fail(std::move(stmt).error());
  std::vector<PlacedJobRow> out;
  auto walked = stmt->each([&] {
    PlacedJobRow r;
    r.id = stmt->column_int(0);
    // Named as everywhere else ("12" or "12_3"): the record's rule, not a copy of it.
    JobRecord named;
    named.id = r.id;
    named.array_id = stmt->column_optional_int(1);
    if (const auto index = stmt->column_optional_int(2))
      named.array_index = static_cast<int>(*index);
    r.label = named.display_id();
    r.name = stmt->column_text(3);
    r.user = stmt->column_text(4);
    r.state = parse_state(stmt->column_text(5)).value_or(JobState::running);
    r.ring_link = stmt->column_text(6);
    if (stmt->column_int(7) == 0) r.ring_gbps = stmt->column_double(8);
    out.push_back(std::move(r));
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

Result<std::map<JobState, std::int64_t>, StoreError> JobStore::count_unfinished(
    const std::optional<std::string>& user) {
  auto stmt =
      db_->prepare(std::string("SELECT state, COUNT(*) FROM jobs WHERE state IN ('PENDING', "
                               "'HELD', 'STAGING', 'RUNNING', 'REQUEUED')") +
                   (user ? " AND user_name = ?1" : "") + " GROUP BY state");
  if (!stmt) return fail(std::move(stmt).error());
  if (user) stmt->bind(1, std::string_view(*user));
  std::map<JobState, std::int64_t> out;
  auto walked = stmt->each([&] {
    if (const auto s = parse_state(stmt->column_text(0))) out[*s] = stmt->column_int(1);
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

Result<std::map<JobState, std::int64_t>, StoreError> JobStore::count_by_state() {
  auto stmt = db_->prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state");
  if (!stmt) return fail(std::move(stmt).error());
  std::map<JobState, std::int64_t> out;
  for (const JobState s : kAllJobStates)
    out[s] = 0;
  auto walked = stmt->each([&] {
    if (const auto s = parse_state(stmt->column_text(0))) out[*s] = stmt->column_int(1);
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

}  // namespace sy::store

namespace sy::store {

Result<void, StoreError> JobStore::start_job(JobId id,
                                             const std::vector<AllocationRow>& allocations,
                                             const std::string& placement_json,
                                             std::int64_t now_ms) {
  auto started = apply_event(id, JobEvent::start_staging, "", now_ms);
  if (!started) return fail(std::move(started).error());
  for (const auto& a : allocations) {
    insert_allocation_.bind(1, id)
        .bind(2, std::string_view(a.node))
        .bind(3, static_cast<std::int64_t>(a.gpus))
        .bind(4, a.end_ms)
        .bind(5, std::int64_t{a.cpus})
        .bind(6, a.memory_mib);
    if (auto r = insert_allocation_.run(); !r) return r;
  }
  set_placement_.bind(1, id).bind(2, std::string_view(placement_json));
  return set_placement_.run();
}

Result<void, StoreError> JobStore::set_reason(JobId id, const std::string& reason) {
  set_reason_.bind(1, id).bind(2, std::string_view(reason));
  return set_reason_.run();
}

Result<std::vector<AllocationRow>, StoreError> JobStore::allocations() {
  std::vector<AllocationRow> out;
  auto walked = list_allocations_.each([&] {
    out.push_back({list_allocations_.column_int(0), list_allocations_.column_text(1),
                   static_cast<std::uint64_t>(list_allocations_.column_int(2)),
                   list_allocations_.column_int(3),
                   static_cast<int>(list_allocations_.column_int(4)),
                   list_allocations_.column_int(5)});
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

}  // namespace sy::store

namespace sy::store {

Result<void, StoreError> JobStore::fold_usage(std::string_view kind, const std::string& name,
                                              double gpu_seconds, std::int64_t ended_ms) {
  if (gpu_seconds <= 0) return {};
  sched::LedgerEntry entry;
  get_ledger_.bind(1, kind).bind(2, std::string_view(name));
  auto row = get_ledger_.step();
  if (!row) {
    get_ledger_.reset();
    return fail(std::move(row).error());
  }
  if (row.value()) entry = {get_ledger_.column_double(0), get_ledger_.column_int(1)};
  get_ledger_.reset();
  entry = sched::add_usage(entry, gpu_seconds, ended_ms, usage_half_life_ms_);
  put_ledger_.bind(1, kind)
      .bind(2, std::string_view(name))
      .bind(3, entry.gpu_seconds)
      .bind(4, entry.as_of_ms);
  return put_ledger_.run();
}

Result<sched::Ledger, StoreError> JobStore::usage_ledger() {
  auto stmt = db_->prepare("SELECT kind, name, gpu_seconds, as_of_ms FROM fair_share_ledger");
  if (!stmt) return fail(std::move(stmt).error());
  sched::Ledger ledger;
  auto walked = stmt->each([&] {
    auto& side = stmt->column_text(0) == "account" ? ledger.by_account : ledger.by_user;
    side[stmt->column_text(1)] = {stmt->column_double(2), stmt->column_int(3)};
  });
  if (!walked) return fail(std::move(walked).error());
  return ledger;
}

Result<std::vector<sched::UsageRecord>, StoreError> JobStore::running_usage() {
  auto stmt = db_->prepare(
      "SELECT COALESCE(account, user_name), user_name, nodes * gpus_per_node, start_ms "
      "FROM jobs WHERE state = 'RUNNING' AND start_ms IS NOT NULL");
  if (!stmt) return fail(std::move(stmt).error());
  std::vector<sched::UsageRecord> out;
  auto walked = stmt->each([&] {
    out.push_back({stmt->column_text(0), stmt->column_text(1),
                   static_cast<int>(stmt->column_int(2)), stmt->column_int(3), std::nullopt});
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

Result<bool, StoreError> JobStore::seed_usage_ledger(std::int64_t now_ms) {
  auto any = db_->prepare("SELECT 1 FROM fair_share_ledger LIMIT 1");
  if (!any) return fail(std::move(any).error());
  auto found = any->step();
  if (!found) return fail(std::move(found).error());
  if (found.value()) return false;
  auto ended = usage_since(now_ms - 10 * usage_half_life_ms_);
  if (!ended) return fail(std::move(ended).error());
  for (const auto& r : ended.value()) {
    if (!r.end_ms || *r.end_ms <= r.start_ms) continue;
    const double used = r.gpus * static_cast<double>(*r.end_ms - r.start_ms) / 1000.0;
    if (auto f = fold_usage("account", r.account, used, *r.end_ms); !f) return fail(f.error());
    if (auto f = fold_usage("user", r.user, used, *r.end_ms); !f) return fail(f.error());
  }
  return true;
}

Result<std::vector<sched::UsageRecord>, StoreError> JobStore::usage_since(std::int64_t since_ms) {
  auto stmt = db_->prepare(
      "SELECT COALESCE(account, user_name), user_name, nodes * gpus_per_node, start_ms, end_ms "
      "FROM jobs WHERE start_ms IS NOT NULL AND start_ms >= ?1");
  if (!stmt) return fail(std::move(stmt).error());
  stmt->bind(1, since_ms);
  std::vector<sched::UsageRecord> out;
  auto walked = stmt->each([&] {
    out.push_back({stmt->column_text(0), stmt->column_text(1),
                   static_cast<int>(stmt->column_int(2)), stmt->column_int(3),
                   stmt->column_optional_int(4)});
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

}  // namespace sy::store

namespace sy::store {

namespace {

// The columns a waiting job is read from (read_waiting), then the state and the start.
constexpr const char* kWaitingColumns =
    "id, user_name, COALESCE(account, user_name), priority, submit_ms, nodes, "
    "gpus_per_node, time_limit_s, reason, COALESCE(gpu_model, ''), COALESCE(gpu_memory_mib, 0), "
    "features, datasets, after_ok, after_any, begin_ms, COALESCE(array_id, 0), array_limit, "
    "COALESCE(array_index, 0), cpus_per_gpu, memory_per_gpu_mib, state, start_ms";

WaitingJob read_waiting(const Statement& stmt) {
  WaitingJob j;
  j.id = stmt.column_int(0);
  j.user = stmt.column_text(1);
  j.account = stmt.column_text(2);
  j.priority = static_cast<int>(stmt.column_int(3));
  j.submit_ms = stmt.column_int(4);
  j.nodes = static_cast<int>(stmt.column_int(5));
  j.gpus_per_node = static_cast<int>(stmt.column_int(6));
  j.time_limit_s = stmt.column_optional_int(7);
  j.reason = stmt.column_text(8);
  j.gpu_model = stmt.column_text(9);
  j.gpu_memory_mib = stmt.column_int(10);
  j.features = split_commas(stmt.column_text(11));
  j.datasets = split_commas(stmt.column_text(12));
  j.after_ok = split_ids(stmt.column_text(13));
  j.after_any = split_ids(stmt.column_text(14));
  j.begin_ms = stmt.column_int(15);
  j.array_id = stmt.column_int(16);
  j.array_limit = static_cast<int>(stmt.column_int(17));
  j.array_index = static_cast<int>(stmt.column_int(18));
  j.cpus_per_gpu = static_cast<int>(stmt.column_int(19));
  j.memory_per_gpu_mib = stmt.column_int(20);
  return j;
}

}  // namespace

Result<std::vector<WaitingJob>, StoreError> JobStore::waiting() {
  auto stmt = db_->prepare(std::string("SELECT ") + kWaitingColumns +
                           " FROM jobs WHERE state IN ('PENDING', 'REQUEUED') ORDER BY id");
  if (!stmt) return fail(std::move(stmt).error());
  std::vector<WaitingJob> out;
  auto walked = stmt->each([&] { out.push_back(read_waiting(stmt.value())); });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

Result<std::vector<SchedulingRow>, StoreError> JobStore::unfinished_scheduling_rows() {
  auto stmt = db_->prepare(std::string("SELECT ") + kWaitingColumns +
                           " FROM jobs WHERE state IN ('PENDING', 'REQUEUED', 'STAGING', "
                           "'RUNNING') ORDER BY id");
  if (!stmt) return fail(std::move(stmt).error());
  std::vector<SchedulingRow> out;
  auto walked = stmt->each([&] {
    if (auto state = parse_state(stmt->column_text(21))) {
      out.push_back({*state, read_waiting(stmt.value()), stmt->column_optional_int(22), {}});
    }
  });
  if (!walked) return fail(std::move(walked).error());
  auto held = allocations();  // by job id, as `out` is
  if (!held) return fail(std::move(held).error());
  auto row = out.begin();
  for (auto& a : held.value()) {
    while (row != out.end() && row->job.id < a.job)
      ++row;
    if (row == out.end()) break;
    if (row->job.id == a.job) row->allocations.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<SchedulingRow>, StoreError> JobStore::scheduling_rows(
    const std::vector<JobId>& ids) {
  auto job = db_->prepare(std::string("SELECT ") + kWaitingColumns + " FROM jobs WHERE id = ?1");
  if (!job) return fail(std::move(job).error());
  auto held = db_->prepare(
      "SELECT job_id, node, gpus, end_ms, cpus, memory_mib FROM allocations WHERE job_id = ?1 "
      "ORDER BY node");
  if (!held) return fail(std::move(held).error());
  std::vector<SchedulingRow> out;
  for (JobId id : ids) {
    job->bind(1, id);
    auto row = job->step();
    if (!row) return fail(std::move(row).error());
    if (!row.value()) {
      job->reset();
      continue;
    }
    auto state = parse_state(job->column_text(21));
    if (!state) {
      job->reset();
      continue;
    }
    SchedulingRow r{*state, read_waiting(job.value()), job->column_optional_int(22), {}};
    job->reset();
    held->bind(1, id);
    auto walked = held->each([&] {
      r.allocations.push_back({held->column_int(0), held->column_text(1),
                               static_cast<std::uint64_t>(held->column_int(2)), held->column_int(3),
                               static_cast<int>(held->column_int(4)), held->column_int(5)});
    });
    if (!walked) return fail(std::move(walked).error());
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<JobOutcome>, StoreError> JobStore::states_of(const std::vector<JobId>& ids) {
  auto stmt = db_->prepare("SELECT state FROM jobs WHERE id = ?1");
  if (!stmt) return fail(std::move(stmt).error());
  std::vector<JobOutcome> out;
  for (JobId id : ids) {
    stmt->bind(1, id);
    auto row = stmt->step();
    if (!row) return fail(std::move(row).error());
    if (row.value()) {
      if (auto state = parse_state(stmt->column_text(0))) out.push_back({id, *state});
    }
    stmt->reset();
  }
  return out;
}

Result<std::map<JobId, int>, StoreError> JobStore::array_active() {
  auto stmt = db_->prepare(
      "SELECT array_id, COUNT(*) FROM jobs WHERE array_id IS NOT NULL AND array_limit > 0 "
      "AND state IN ('STAGING', 'RUNNING') GROUP BY array_id");
  if (!stmt) return fail(std::move(stmt).error());
  std::map<JobId, int> out;
  auto walked =
      stmt->each([&] { out[stmt->column_int(0)] = static_cast<int>(stmt->column_int(1)); });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

Result<JobReads, StoreError> open_job_reads(const std::string& db_path) {
  auto db = Db::open(db_path, Db::Mode::read_only);
  if (!db) return fail(std::move(db).error());
  auto owned = std::make_unique<Db>(std::move(db).value());
  auto jobs = JobStore::open(*owned);
  if (!jobs) return fail(std::move(jobs).error());
  return JobReads{std::move(owned), std::make_unique<JobStore>(std::move(jobs).value())};
}

}  // namespace sy::store
