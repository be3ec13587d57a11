#include "controller/api/job_api.hpp"

#include <charconv>
#include <memory>
#include <regex>

#include "common/job_spec.hpp"
#include "common/log.hpp"

namespace sy::api {
namespace {

constexpr int kMaxListLimit = 10000;

ApiResponse store_failure(const store::StoreError& e) {
  switch (e.code) {
    case store::StoreError::Code::not_found:
      return error_response(404, "not_found", e.message);
    case store::StoreError::Code::conflict:
      return error_response(409, "conflict", e.message);
    case store::StoreError::Code::invalid:
      return error_response(400, "invalid_spec", e.message, e.field);
    case store::StoreError::Code::internal:
      break;
  }
  SY_LOG(error, "api") << e.message;
  return error_response(500, "internal",
                        "the controller could not complete the request: " + e.message);
}

bool parse_id(const std::string& text, std::int64_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out > 0;
}

}  // namespace

JobApi::JobApi(store::CommitQueue& writes, store::JobStore& reads, Clock now_ms)
    : writes_(writes), reads_(reads), now_ms_(std::move(now_ms)) {}

void JobApi::handle(ApiRequest request, Responder respond) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/v1/jobs") {
    if (method == "POST") return submit(request, std::move(respond));
    if (method == "GET") return respond(list(request));
    return respond(error_response(405, "method_not_allowed", "use GET or POST on /v1/jobs"));
  }
  if (path.rfind("/v1/jobs/", 0) == 0 && path.size() > 14 &&
      path.compare(path.size() - 5, 5, "/logs") == 0) {
    auto id = resolve_id(path.substr(9, path.size() - 14));
    if (!id) return respond(std::move(id).error());
    if (auto refused = refuse_stranger(request, id.value())) return respond(std::move(*refused));
    if (method == "GET") return respond(logs(request, id.value()));
    return respond(error_response(405, "method_not_allowed", "use GET on a job's logs"));
  }
  if (path.rfind("/v1/jobs/", 0) == 0) {
    const std::string text = path.substr(9);
    auto id = resolve_id(text);
    if (!id) return respond(std::move(id).error());
    if (auto refused = refuse_stranger(request, id.value())) return respond(std::move(*refused));
    if (method == "GET") return respond(get(id.value()));
    if (method == "DELETE") {
      return cancel(request, id.value(), text.find('_') == std::string::npos, std::move(respond));
    }
    return respond(error_response(405, "method_not_allowed", "use GET or DELETE on a job"));
  }
  respond(error_response(404, "no_such_endpoint", "no endpoint " + method + " " + path));
}

std::optional<ApiResponse> JobApi::refuse_stranger(const ApiRequest& request, std::int64_t id) {
  if (request.admin) return std::nullopt;
  std::lock_guard<std::mutex> lock(reads_mutex_);
  auto job = reads_.get(id);
  if (!job) return store_failure(job.error());
  // A job that does not exist is answered by the handler (404).
  if (job.value() && job.value()->user != request.user) {
    return not_yours("job " + std::to_string(id));
  }
  return std::nullopt;
}

ApiResponse JobApi::logs(const ApiRequest& request, std::int64_t id) {
  constexpr std::int64_t kMaxSlice = 1 << 20;
  std::int64_t offset = 0;
  if (const auto it = request.query.find("offset"); it != request.query.end()) {
    if (!parse_id(it->second, offset) && it->second != "0") {
      return error_response(400, "invalid_query", "offset must be a byte offset (0 or more)",
                            "offset");
    }
  }
  std::string state;
  {
    std::lock_guard<std::mutex> lock(reads_mutex_);
    auto job = reads_.get(id);
    if (!job) return store_failure(job.error());
    if (!job.value()) {
      return error_response(404, "not_found", "job " + std::to_string(id) + " not found");
    }
    state = std::string(state_name(job.value()->state));
  }
  runtime::JobLogs::Slice slice{"", offset};
  if (const auto it = request.query.find("tail"); it != request.query.end()) {
    // The last bytes of the log, from a line's start: where a dashboard begins following it.
    std::int64_t tail = 0;
    if (request.query.count("offset") > 0 || !parse_id(it->second, tail) || tail > kMaxSlice) {
      return error_response(400, "invalid_query",
                            "tail must be a byte count from 1 to 1048576, without offset", "tail");
    }
    if (logs_) {
      auto t = logs_->tail(id, tail);
      offset = t.offset;
      slice = std::move(t.slice);
    }
  } else if (logs_) {
    slice = logs_->read(id, offset, kMaxSlice);
  }
  return {200,
          {{"job", id},
           {"offset", offset},
           {"next", slice.next},
           {"state", state},
           {"text", std::move(slice.text)}}};
}

Result<std::int64_t, ApiResponse> JobApi::resolve_id(const std::string& text) {
  if (auto ref = parse_job_ref(text)) {
    if (!ref->task) return ref->id;
    std::lock_guard<std::mutex> lock(reads_mutex_);
    auto task = reads_.find_task(ref->id, *ref->task);
    if (!task) return fail(store_failure(task.error()));
    if (!task.value()) return fail(error_response(404, "not_found", "job " + text + " not found"));
    return *task.value();
  }
  return fail(error_response(400, "bad_job_id",
                             "'" + text + "' is not a job id (12, or 12_3 for a task of an array)",
                             "id"));
}

void JobApi::submit(const ApiRequest& request, Responder respond) {
  auto user = requesting_user(request);
  if (!user) return respond(std::move(user).error());
  const std::string type = request.header("content-type");
  if (type.rfind("application/json", 0) != 0) {
    return respond(error_response(415, "unsupported_media_type",
                                  "send the job as Content-Type: application/json"));
  }
  std::optional<std::string> token;
  if (auto key = request.header("idempotency-key"); !key.empty()) {
    static const std::regex token_syntax("[A-Za-z0-9_.:-]{8,128}");
    if (!std::regex_match(key, token_syntax)) {
      return respond(error_response(400, "bad_idempotency_key",
                                    "Idempotency-Key must be 8-128 letters, digits or _.:-",
                                    "Idempotency-Key"));
    }
    token = std::move(key);
  }
  auto spec = job_spec_from_json_text(request.body);
  if (!spec) {
    const SpecError& e = spec.error();
    return respond(error_response(400, "invalid_spec", e.to_string(), e.field));
  }
  auto job = std::make_shared<store::NewJob>(
      store::NewJob{std::move(spec).value(), std::move(user).value(), std::move(token), now_ms_()});
  auto outcome = std::make_shared<store::SubmitOutcome>();
  writes_.submit(
      [job, outcome](store::Stores& s) -> Result<void, store::StoreError> {
        auto r = s.jobs.insert(*job);
        if (!r) return fail(std::move(r).error());
        *outcome = r.value();
        return {};
      },
      [this, outcome, respond = std::move(respond)](Result<void, store::StoreError> committed) {
        if (!committed) return respond(store_failure(committed.error()));
        if (on_submit_) {
          on_submit_();
        } else if (on_change_) {
          on_change_();
        }
        nlohmann::json body{
            {"id", outcome->id}, {"state", "PENDING"}, {"created", outcome->created}};
        if (!outcome->tasks.empty()) {
          body["array_id"] = outcome->id;
          body["tasks"] = outcome->tasks;
        }
        respond({outcome->created ? 201 : 200, std::move(body)});
      });
}

ApiResponse JobApi::list(const ApiRequest& request) {
  store::JobFilter filter;
  const auto state_it = request.query.find("state");
  const std::string states = state_it == request.query.end() ? "active" : state_it->second;
  if (states == "active") {
    for (JobState s : kAllJobStates) {
      if (!is_terminal(s)) filter.states.insert(s);
    }
  } else if (states != "all") {
    std::size_t start = 0;
    while (start <= states.size()) {
      const auto comma = states.find(',', start);
      const std::string one = states.substr(start, comma - start);
      auto s = parse_state(one);
      if (!s) {
        return error_response(400, "bad_state",
                              "unknown state '" + one +
                                  "' (want PENDING, HELD, STAGING, RUNNING, "
                                  "COMPLETED, FAILED, CANCELLED, REQUEUED, active or all)",
                              "state");
      }
      filter.states.insert(*s);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (auto it = request.query.find("user"); it != request.query.end() && !it->second.empty()) {
    filter.user = it->second;
  }
  // Users see their own jobs; admins see everybody's.
  if (!request.admin) {
    if (filter.user && *filter.user != request.user) {
      return error_response(403, "forbidden", "only admins may list another user's jobs", "user");
    }
    filter.user = request.user;
  }
  if (auto it = request.query.find("after"); it != request.query.end()) {
    std::int64_t after = 0;
    if (it->second != "0" && !parse_id(it->second, after)) {
      return error_response(400, "bad_after", "after must be a job id", "after");
    }
    filter.after_id = after;
  }
  if (auto it = request.query.find("limit"); it != request.query.end()) {
    std::int64_t limit = 0;
    if (!parse_id(it->second, limit) || limit > kMaxListLimit) {
      return error_response(400, "bad_limit", "limit must be 1.." + std::to_string(kMaxListLimit),
                            "limit");
    }
    filter.limit = static_cast<int>(limit);
  }
  std::lock_guard<std::mutex> lock(reads_mutex_);
  auto jobs = reads_.list(filter);
  if (!jobs) return store_failure(jobs.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& j : jobs.value())
    out.push_back(job_record_to_json(j));
  const bool more = static_cast<int>(jobs->size()) == filter.limit;
  return {200,
          {{"jobs", std::move(out)},
           {"next_after", more ? nlohmann::json(jobs->back().id) : nlohmann::json(nullptr)}}};
}

ApiResponse JobApi::get(std::int64_t id) {
  std::lock_guard<std::mutex> lock(reads_mutex_);
  auto job = reads_.get(id);
  if (!job) return store_failure(job.error());
  if (!job.value())
    return error_response(404, "not_found", "job " + std::to_string(id) + " not found");
  JobRecord& record = *job.value();
  if (staging_) {
    for (const auto& order : staging_->for_job(id)) {
      if (record.staging.is_null()) record.staging = nlohmann::json::array();
      record.staging.push_back(nodes::stage_request_to_json(order));
    }
  }
  return {200, job_record_to_json(record)};
}

void JobApi::cancel(const ApiRequest& request, std::int64_t id, bool whole_array,
                    Responder respond) {
  auto user = requesting_user(request);
  if (!user) return respond(std::move(user).error());
  auto result = std::make_shared<JobRecord>();
  auto cancelled = std::make_shared<std::vector<std::int64_t>>();
  const std::int64_t now = now_ms_();
  const std::string reason = "cancelled by " + user.value();
  writes_.submit(
      [id, now, reason, whole_array, result,
       cancelled](store::Stores& s) -> Result<void, store::StoreError> {
        auto job = s.jobs.get(id);
        if (!job) return fail(std::move(job).error());
        if (!job.value()) {
          return fail(store::StoreError::not_found("job " + std::to_string(id) + " not found"));
        }
        // Like scancel: an array's own id means all of its tasks that still live.
        std::vector<std::int64_t> targets{id};
        const bool array = whole_array && job.value()->array_id == id;
        if (array) {
          auto tasks = s.jobs.array_tasks(id);
          if (!tasks) return fail(std::move(tasks).error());
          targets = std::move(tasks).value();
        }
        for (std::int64_t t : targets) {
          auto r = s.jobs.apply_event(t, JobEvent::cancel, reason, now);
          if (r) {
            cancelled->push_back(t);
            if (t == id) *result = std::move(r).value();
          } else if (!array || r.error().code != store::StoreError::Code::conflict) {
            return fail(std::move(r).error());
          }
        }
        if (cancelled->empty()) {
          return fail(store::StoreError::conflict("array " + std::to_string(id) +
                                                  " has no task left to cancel"));
        }
        if (result->id == 0) {
          auto first = s.jobs.get(id);
          if (!first) return fail(std::move(first).error());
          *result = std::move(*first.value());
        }
        return {};
      },
      [this, result, cancelled,
       respond = std::move(respond)](Result<void, store::StoreError> committed) {
        if (!committed) return respond(store_failure(committed.error()));
        if (on_change_) on_change_();
        nlohmann::json body = job_record_to_json(*result);
        body["cancelled"] = *cancelled;
        respond({200, std::move(body)});
      });
}

}  // namespace sy::api
