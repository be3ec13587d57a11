// The job messages of the agent protocol (declared in agent_protocol.hpp).
#include <regex>

#include "common/agent_protocol.hpp"
#include "common/dataset/manifest.hpp"

namespace sy::protocol {
namespace {

bool positive_id(const nlohmann::json& m, const char* key) {
  return m.is_object() && m.contains(key) && m[key].is_number_integer() &&
         m[key].get<std::int64_t>() > 0;
}

}  // namespace

nlohmann::json job_report_message(const JobReport& r) {
  nlohmann::json j{{"type", "job_report"}, {"job", r.job}, {"state", r.state}};
  if (r.state == "ended") {
    j["exit_code"] = r.exit_code;
    j["signal"] = r.signal;
  }
  if (!r.message.empty()) j["message"] = r.message;
  if (!r.outputs_error.empty()) j["outputs_error"] = r.outputs_error;
  return j;
}

JobReport job_refused(std::int64_t job, std::string why) {
  JobReport r;
  r.job = job;
  r.state = "refused";
  r.message = std::move(why);
  return r;
}

Result<JobReport, std::string> read_job_report(const nlohmann::json& m) {
  if (!positive_id(m, "job")) return fail(std::string("job_report: \"job\" must be a job id"));
  JobReport r;
  r.job = m["job"].get<std::int64_t>();
  r.state = m.value("state", std::string());
  if (r.state != "running" && r.state != "staging_out" && r.state != "ended" &&
      r.state != "refused") {
    return fail(
        std::string("job_report: \"state\" must be running, staging_out, ended or refused"));
  }
  if (r.state == "ended") {
    if (!m.contains("exit_code") || !m["exit_code"].is_number_integer() || !m.contains("signal") ||
        !m["signal"].is_number_integer()) {
      return fail(std::string("job_report: an ended job needs \"exit_code\" and \"signal\""));
    }
    r.exit_code = m["exit_code"].get<int>();
    r.signal = m["signal"].get<int>();
  }
  if (m.contains("message") && m["message"].is_string()) {
    r.message = m["message"].get<std::string>().substr(0, 4096);
  }
  if (m.contains("outputs_error") && m["outputs_error"].is_string()) {
    r.outputs_error = m["outputs_error"].get<std::string>().substr(0, 4096);
  }
  return r;
}

nlohmann::json launch_message(const LaunchOrder& o) {
  nlohmann::json datasets = nlohmann::json::array();
  for (const auto& d : o.datasets)
    datasets.push_back({{"name", d.name}, {"version", d.version}});
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& out : o.outputs)
    outputs.push_back({{"path", out.path}, {"to", out.to}});
  return {{"type", "launch"},   {"job", o.job},         {"command", o.command},
          {"script", o.script}, {"env", o.env},         {"workdir", o.workdir},
          {"gpus", o.gpus},     {"datasets", datasets}, {"outputs", outputs}};
}

Result<LaunchOrder, std::string> read_launch_order(const nlohmann::json& m) {
  if (!positive_id(m, "job")) return fail(std::string("launch: \"job\" must be a job id"));
  LaunchOrder o;
  o.job = m["job"].get<std::int64_t>();
  const auto bad = [](const std::string& field, const std::string& what) {
    return Result<LaunchOrder, std::string>(fail("launch: " + field + ": " + what));
  };
  if (!m.contains("command") || !m["command"].is_array()) {
    return bad("command", "must be an array of strings");
  }
  for (const auto& a : m["command"]) {
    if (!a.is_string()) return bad("command", "must be an array of strings");
    o.command.push_back(a.get<std::string>());
  }
  o.script = m.value("script", std::string());
  if (o.command.empty() == o.script.empty()) return bad("command", "give a command or a script");
  if (!o.command.empty() && o.command[0].empty()) return bad("command[0]", "must not be empty");
  if (!m.contains("env") || !m["env"].is_object()) return bad("env", "must be an object");
  static const std::regex var_name("[A-Za-z_][A-Za-z0-9_]*");
  for (const auto& [key, value] : m["env"].items()) {
    if (!std::regex_match(key, var_name) || !value.is_string()) {
      return bad("env." + key, "must be a variable name with a string value");
    }
    o.env[key] = value.get<std::string>();
  }
  o.workdir = m.value("workdir", std::string());
  if (!o.workdir.empty() && o.workdir[0] != '/') return bad("workdir", "must be an absolute path");
  if (!m.contains("gpus") || !m["gpus"].is_array()) return bad("gpus", "must be an array");
  for (const auto& g : m["gpus"]) {
    if (!g.is_number_integer() || g.get<int>() < 0 || g.get<int>() > 63) {
      return bad("gpus", "must hold GPU indices 0-63");
    }
    o.gpus.push_back(g.get<int>());
  }
  if (!m.contains("datasets") || !m["datasets"].is_array()) {
    return bad("datasets", "must be an array");
  }
  for (const auto& d : m["datasets"]) {
    if (!d.is_object() || !d.contains("name") || !d["name"].is_string() ||
        !dataset::valid_dataset_name(d["name"].get<std::string>()) || !d.contains("version") ||
        !d["version"].is_string() || !dataset::parse_digest_hex(d["version"].get<std::string>())) {
      return bad("datasets", "each must have a dataset name and a 16-hex-digit version");
    }
    o.datasets.push_back(
        {.name = d["name"].get<std::string>(), .version = d["version"].get<std::string>()});
  }
  if (m.contains("outputs")) {
    if (!m["outputs"].is_array()) return bad("outputs", "must be an array");
    for (const auto& out : m["outputs"]) {
      // The same rules as the job spec's: from below the working directory, to an absolute path.
      if (!out.is_object() || !out.contains("path") || !out["path"].is_string() ||
          !dataset::check_relative_path(out["path"].get<std::string>()) || !out.contains("to") ||
          !out["to"].is_string() || out["to"].get<std::string>().size() < 2 ||
          out["to"].get<std::string>()[0] != '/' ||
          out["to"].get<std::string>().find("/..") != std::string::npos) {
        return bad("outputs", "each must have a relative path and an absolute 'to'");
      }
      o.outputs.push_back(
          {.path = out["path"].get<std::string>(), .to = out["to"].get<std::string>()});
    }
  }
  return o;
}

nlohmann::json stop_message(std::int64_t job, const std::string& reason) {
  return {{"type", "stop"}, {"job", job}, {"reason", reason}};
}

nlohmann::json job_ack_message(std::int64_t job) {
  return {{"type", "job_ack"}, {"job", job}};
}

Result<std::int64_t, std::string> read_job_id(const nlohmann::json& m) {
  if (!positive_id(m, "job")) return fail(std::string("\"job\" must be a job id"));
  return m["job"].get<std::int64_t>();
}

}  // namespace sy::protocol
