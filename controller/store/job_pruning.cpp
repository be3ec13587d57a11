// JobStore::prune_ended: retention of ended jobs (docs/configuration.md, "retention").

#include <set>

#include "common/comma_list.hpp"
#include "controller/store/job_store.hpp"

namespace sy::store {
namespace {

// Jobs a waiting or running job still names in a dependency: kept whatever their age, so the
// dependency is judged on their real outcome.
Result<std::set<JobId>, StoreError> depended_on(Db& db) {
  auto stmt = db.prepare(
      "SELECT after_ok, after_any FROM jobs WHERE state NOT IN ('COMPLETED', 'FAILED', "
      "'CANCELLED') AND (after_ok != '' OR after_any != '')");
  if (!stmt) return fail(std::move(stmt).error());
  std::set<JobId> out;
  auto walked = stmt->each([&] {
    for (int col : {0, 1}) {
      for (const auto& id : split_commas(stmt->column_text(col)))
        out.insert(std::stoll(id));
    }
  });
  if (!walked) return fail(std::move(walked).error());
  return out;
}

}  // namespace

Result<std::vector<JobId>, StoreError> JobStore::prune_ended(std::int64_t before_ms,
                                                             std::size_t limit, const Keep& keep) {
  auto kept = depended_on(*db_);
  if (!kept) return fail(std::move(kept).error());
  // jobs_by_end finds the candidates without reading the live queue.
  auto stmt = db_->prepare(
      "SELECT id FROM jobs WHERE end_ms IS NOT NULL AND end_ms < ?1 AND state IN ('COMPLETED', "
      "'FAILED', 'CANCELLED') ORDER BY end_ms, id LIMIT ?2");
  if (!stmt) return fail(std::move(stmt).error());
  // Over-read by the kept ones, so a batch is not cut short by them.
  stmt->bind(1, before_ms).bind(2, static_cast<std::int64_t>(limit + kept->size()));
  std::vector<JobId> ids;
  auto walked = stmt->each([&] {
    const JobId id = stmt->column_int(0);
    if (!kept->contains(id) && ids.size() < limit) ids.push_back(id);
  });
  if (!walked) return fail(std::move(walked).error());
  std::vector<JobRecord> records;
  for (JobId id : ids) {
    auto job = get(id);
    if (!job) return fail(std::move(job).error());
    if (job.value()) records.push_back(std::move(*job.value()));
  }
  if (keep && !records.empty()) {
    if (auto k = keep(records); !k) return fail(std::move(k).error());
  }
  auto drop_events = db_->prepare("DELETE FROM job_events WHERE job_id = ?1");
  auto drop_job = db_->prepare("DELETE FROM jobs WHERE id = ?1");
  if (!drop_events) return fail(std::move(drop_events).error());
  if (!drop_job) return fail(std::move(drop_job).error());
  for (JobId id : ids) {
    drop_events->bind(1, id);
    if (auto r = drop_events->run(); !r) return fail(std::move(r).error());
    drop_job->bind(1, id);
    if (auto r = drop_job->run(); !r) return fail(std::move(r).error());
  }
  // A job that still holds GPUs keeps its whole record, however long it has run.
  auto audit = db_->prepare(
      "DELETE FROM allocation_audit WHERE at_ms < ?1 AND job_id NOT IN "
      "(SELECT job_id FROM allocations)");
  if (!audit) return fail(std::move(audit).error());
  audit->bind(1, before_ms);
  if (auto r = audit->run(); !r) return fail(std::move(r).error());
  return ids;
}

}  // namespace sy::store
