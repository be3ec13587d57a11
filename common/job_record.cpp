#include "common/job_record.hpp"

#include <charconv>

#include "common/units.hpp"

namespace sy {
namespace {

void put_time(nlohmann::json& j, const char* key, const std::optional<std::int64_t>& ms) {
  j[key] = ms ? nlohmann::json(format_utc_ms(*ms)) : nlohmann::json(nullptr);
}

Result<std::optional<std::int64_t>, std::string> get_time(const nlohmann::json& j,
                                                          const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<std::int64_t>();
  if (!j[key].is_string()) return fail(std::string(key) + " is not a timestamp");
  auto ms = parse_utc_ms(j[key].get<std::string>());
  if (!ms) return fail(std::string(key) + ": " + ms.error());
  return std::optional<std::int64_t>(ms.value());
}

}  // namespace

nlohmann::json job_record_to_json(const JobRecord& job) {
  nlohmann::json j;
  j["id"] = job.id;
  j["name"] = job.spec.name;
  j["user"] = job.user;
  j["state"] = state_name(job.state);
  j["reason"] = job.reason;
  j["gpus"] = job.spec.total_gpus();
  put_time(j, "submit_time", job.submit_ms);
  put_time(j, "updated_time", job.updated_ms);
  put_time(j, "start_time", job.start_ms);
  put_time(j, "end_time", job.end_ms);
  j["exit_code"] = job.exit_code ? nlohmann::json(*job.exit_code) : nlohmann::json(nullptr);
  j["spec"] = job_spec_to_json(job.spec);
  j["placement"] = job.placement;
  if (!job.staging.is_null()) j["staging"] = job.staging;
  j["array_id"] = job.array_id ? nlohmann::json(*job.array_id) : nlohmann::json(nullptr);
  j["array_index"] = job.array_index ? nlohmann::json(*job.array_index) : nlohmann::json(nullptr);
  j["job_id"] = job.display_id();
  put_time(j, "begin_time",
           job.begin_ms > 0 ? std::optional<std::int64_t>(job.begin_ms) : std::nullopt);
  if (!job.events.empty()) {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : job.events) {
      events.push_back({{"time", format_utc_ms(e.at_ms)},
                        {"event", e.event},
                        {"from", e.from ? nlohmann::json(state_name(*e.from)) : nullptr},
                        {"to", state_name(e.to)},
                        {"reason", e.reason}});
    }
    j["events"] = std::move(events);
  }
  return j;
}

std::optional<JobRef> parse_job_ref(std::string_view text) {
  auto number = [](std::string_view t, std::int64_t& out) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return !t.empty() && ec == std::errc() && p == t.data() + t.size();
  };
  JobRef ref;
  const auto underscore = text.find('_');
  if (!number(text.substr(0, underscore), ref.id) || ref.id <= 0) return std::nullopt;
  if (underscore == std::string_view::npos) return ref;
  std::int64_t task = 0;
  if (!number(text.substr(underscore + 1), task) || task < 0 || task > kMaxArrayIndex) {
    return std::nullopt;
  }
  ref.task = static_cast<int>(task);
  return ref;
}

std::string JobRecord::display_id() const {
  if (array_id && array_index)
    return std::to_string(*array_id) + "_" + std::to_string(*array_index);
  return std::to_string(id);
}

Result<JobRecord, std::string> job_record_from_json(const nlohmann::json& j) {
  try {
    JobRecord job;
    job.id = j.at("id").get<JobId>();
    job.user = j.at("user").get<std::string>();
    auto state = parse_state(j.at("state").get<std::string>());
    if (!state) return fail("unknown job state " + j.at("state").dump());
    job.state = *state;
    job.reason = j.value("reason", "");
    auto spec = job_spec_from_document(Document::from_value(j.at("spec")));
    if (!spec) return fail("spec: " + spec.error().to_string());
    job.spec = std::move(spec).value();
    auto submit = get_time(j, "submit_time"), updated = get_time(j, "updated_time");
    auto start = get_time(j, "start_time"), end = get_time(j, "end_time");
    for (auto* t : {&submit, &updated, &start, &end}) {
      if (!*t) return fail(t->error());
    }
    job.submit_ms = submit->value_or(0);
    job.updated_ms = updated->value_or(0);
    job.start_ms = *start;
    job.end_ms = *end;
    if (j.contains("exit_code") && !j["exit_code"].is_null())
      job.exit_code = j["exit_code"].get<int>();
    if (j.contains("placement")) job.placement = j["placement"];
    if (j.contains("staging")) job.staging = j["staging"];
    if (j.contains("array_id") && !j["array_id"].is_null()) {
      job.array_id = j["array_id"].get<JobId>();
    }
    if (j.contains("array_index") && !j["array_index"].is_null()) {
      job.array_index = j["array_index"].get<int>();
    }
    auto begin = get_time(j, "begin_time");
    if (!begin) return fail(begin.error());
    job.begin_ms = begin->value_or(0);
    if (j.contains("events")) {
      for (const auto& e : j["events"]) {
        JobEventRecord ev;
        auto at = parse_utc_ms(e.at("time").get<std::string>());
        if (!at) return fail(at.error());
        ev.at_ms = at.value();
        ev.event = e.at("event").get<std::string>();
        if (!e.at("from").is_null()) ev.from = parse_state(e["from"].get<std::string>());
        ev.to = parse_state(e.at("to").get<std::string>()).value_or(JobState::pending);
        ev.reason = e.value("reason", "");
        job.events.push_back(std::move(ev));
      }
    }
    return job;
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("malformed job record: ") + e.what());
  }
}

}  // namespace sy
