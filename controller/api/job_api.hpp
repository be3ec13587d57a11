#pragma once
// JobApi: the /v1 job endpoints.
//   POST   /v1/jobs          submit (body: job spec as JSON; headers X-Sy-User, Idempotency-Key)
//   GET    /v1/jobs          list (?state=PENDING,RUNNING|active|all &user= &after= &limit=)
//   GET    /v1/jobs/{id}     one job, with its events; {id} may be an array task, "12_3"
//   DELETE /v1/jobs/{id}     cancel; an array's id ("12") cancels every task, "12_3" one
//   GET    /v1/jobs/{id}/logs   its output, every rank's lines labelled "RANK: "
//                               (?offset=N: from byte N; the answer's "next" continues it)
// Writes go through the CommitQueue and are answered after their commit; reads use their own
// connection, which sees only committed data.

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "controller/api/api_types.hpp"
#include "controller/nodes/staging_tracker.hpp"
#include "controller/runtime/job_logs.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/job_store.hpp"

namespace sy::api {

class JobApi : public RequestHandler {
 public:
  using Clock = std::function<std::int64_t()>;  // milliseconds since the Unix epoch

  JobApi(store::CommitQueue& writes, store::JobStore& reads, Clock now_ms);
  void handle(ApiRequest request, Responder respond) override;
  // Called after a committed change that scheduling should see (submit, cancel, drain...).
  void set_on_change(std::function<void()> f) { on_change_ = std::move(f); }
  // A submit only adds waiting jobs: the scheduler has work, the runner has none. Without it,
  // submits call on_change.
  void set_on_submit(std::function<void()> f) { on_submit_ = std::move(f); }
  // Where a STAGING job's datasets stand, shown with the job.
  void set_staging(const nodes::StagingTracker& staging) { staging_ = &staging; }
  void set_logs(const runtime::JobLogs& logs) { logs_ = &logs; }

 private:
  void submit(const ApiRequest& request, Responder respond);
  ApiResponse list(const ApiRequest& request);
  ApiResponse get(std::int64_t id);
  // 403 unless the request's user owns job `id` or is an admin.
  std::optional<ApiResponse> refuse_stranger(const ApiRequest& request, std::int64_t id);
  ApiResponse logs(const ApiRequest& request, std::int64_t id);
  void cancel(const ApiRequest& request, std::int64_t id, bool whole_array, Responder respond);
  // "12" or "12_3" to a job id; an error response when it is neither or names no task.
  Result<std::int64_t, ApiResponse> resolve_id(const std::string& text);

  store::CommitQueue& writes_;
  store::JobStore& reads_;
  std::mutex reads_mutex_;  // one read connection, shared by the server's threads
  Clock now_ms_;
  const nodes::StagingTracker* staging_ = nullptr;
  const runtime::JobLogs* logs_ = nullptr;
  std::function<void()> on_change_;
  std::function<void()> on_submit_;
};

}  // namespace sy::api
