// The job messages of the agent protocol (declared in agent_protocol.hpp).
#include <regex>
#include <tuple>

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
  if (r.rank >= 0) j["rank"] = r.rank;
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
    // Output chunks are at most 64 KiB (one read of the pipe); messages are short.
    r.message = m["message"].get<std::string>().substr(
        0, r.state == "stdout" || r.state == "stderr" ? 65536 : 4096);
  }
  if (m.contains("outputs_error") && m["outputs_error"].is_string()) {
    r.outputs_error = m["outputs_error"].get<std::string>().substr(0, 4096);
  }
  if (m.contains("rank")) {
    if (!m["rank"].is_number_integer() || m["rank"].get<int>() < 0) {
      return fail(std::string("job_report: \"rank\" must be a rank (0 or more)"));
    }
    r.rank = m["rank"].get<int>();
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
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& h : o.hosts)
    hosts.push_back({{"node", h.node}, {"slots", h.slots}});
  return {{"type", "launch"},
          {"job", o.job},
          {"command", o.command},
          {"script", o.script},
          {"env", o.env},
          {"workdir", o.workdir},
          {"gpus", o.gpus},
          {"cpus", o.cpus},
          {"memory_mib", o.memory_mib},
          {"datasets", datasets},
          {"outputs", outputs},
          {"launcher", o.launcher},
          {"leader", o.leader},
          {"first_rank", o.first_rank},
          {"world_size", o.world_size},
          {"master_addr", o.master_addr},
          {"master_port", o.master_port},
          {"hosts", hosts},
          {"user", o.user},
          {"slurm", o.slurm},
          {"stdout_path", o.stdout_path},
          {"stderr_path", o.stderr_path}};
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
  if (m.contains("cpus")) {
    if (!m["cpus"].is_number_integer() || m["cpus"].get<std::int64_t>() < 0 ||
        m["cpus"].get<std::int64_t>() > 65536) {
      return bad("cpus", "must be a CPU count from 0 to 65536");
    }
    o.cpus = m["cpus"].get<int>();
  }
  if (m.contains("memory_mib")) {
    if (!m["memory_mib"].is_number_integer() || m["memory_mib"].get<std::int64_t>() < 0) {
      return bad("memory_mib", "must be a size in MiB (0: not limited)");
    }
    o.memory_mib = m["memory_mib"].get<std::int64_t>();
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
  o.launcher = m.value("launcher", std::string("none"));
  if (o.launcher != "none" && o.launcher != "env" && o.launcher != "mpi") {
    return bad("launcher", "must be none, env or mpi");
  }
  if (m.contains("leader")) {
    if (!m["leader"].is_boolean()) return bad("leader", "must be true or false");
    o.leader = m["leader"].get<bool>();
  }
  for (const auto& [key, target, least] :
       {std::tuple{"first_rank", &o.first_rank, 0}, std::tuple{"world_size", &o.world_size, 1},
        std::tuple{"master_port", &o.master_port, 0}}) {
    if (!m.contains(key)) continue;
    if (!m[key].is_number_integer() || m[key].get<std::int64_t>() < least ||
        m[key].get<std::int64_t>() > 65535 * 64) {
      return bad(key, "must be a whole number of at least " + std::to_string(least));
    }
    *target = m[key].get<int>();
  }
  if (o.master_port > 65535) return bad("master_port", "must be a TCP port");
  if (o.first_rank >= o.world_size) return bad("first_rank", "must be below world_size");
  o.master_addr = m.value("master_addr", std::string());
  if (o.master_addr.find_first_of(" \t\n;'\"$`\\") != std::string::npos) {
    return bad("master_addr", "must be a host name or address");
  }
  if (m.contains("hosts")) {
    if (!m["hosts"].is_array()) return bad("hosts", "must be an array");
    for (const auto& h : m["hosts"]) {
      if (!h.is_object() || !h.contains("node") || !h["node"].is_string() ||
          !valid_node_name(h["node"].get<std::string>()) || !h.contains("slots") ||
          !h["slots"].is_number_integer() || h["slots"].get<int>() < 1 ||
          h["slots"].get<int>() > 1024) {
        return bad("hosts", "each must have a node name and 1-1024 slots");
      }
      o.hosts.push_back({.node = h["node"].get<std::string>(), .slots = h["slots"].get<int>()});
    }
  }
  if (o.launcher == "mpi" && o.leader && o.hosts.empty()) {
    return bad("hosts", "an mpi launch on the first node needs the job's hosts");
  }
  o.user = m.value("user", std::string());
  if (m.contains("slurm")) {
    if (!m["slurm"].is_boolean()) return bad("slurm", "must be true or false");
    o.slurm = m["slurm"].get<bool>();
  }
  for (const auto& [key, target] :
       {std::pair{"stdout_path", &o.stdout_path}, std::pair{"stderr_path", &o.stderr_path}}) {
    if (!m.contains(key)) continue;
    if (!m[key].is_string() || m[key].get<std::string>().size() > 4096 ||
        m[key].get<std::string>().find('\0') != std::string::npos) {
      return bad(key, "must be a path");
    }
    *target = m[key].get<std::string>();
  }
  static const std::regex user_name("[A-Za-z_][A-Za-z0-9_.-]{0,31}");
  if (!o.user.empty() && !std::regex_match(o.user, user_name)) {
    return bad("user", "must be a user name");
  }
  return o;
}

nlohmann::json job_output_message(const JobOutput& o) {
  return {{"type", "job_output"},
          {"job", o.job},
          {"offset", o.offset},
          {"end", o.end},
          {"text", o.text}};
}

Result<JobOutput, std::string> read_job_output(const nlohmann::json& m) {
  if (!positive_id(m, "job")) return fail(std::string("job_output: \"job\" must be a job id"));
  JobOutput o;
  o.job = m["job"].get<std::int64_t>();
  if (!m.contains("offset") || !m["offset"].is_number_integer() || !m.contains("end") ||
      !m["end"].is_number_integer() || !m.contains("text") || !m["text"].is_string()) {
    return fail(std::string("job_output: needs \"offset\", \"end\" and \"text\""));
  }
  o.offset = m["offset"].get<std::int64_t>();
  o.end = m["end"].get<std::int64_t>();
  if (o.offset < 0 || o.end < o.offset) {
    return fail(std::string("job_output: \"offset\" and \"end\" must be 0 <= offset <= end"));
  }
  o.text = m["text"].get<std::string>();
  return o;
}

nlohmann::json output_ack_message(std::int64_t job, std::int64_t end) {
  return {{"type", "output_ack"}, {"job", job}, {"end", end}};
}

Result<std::pair<std::int64_t, std::int64_t>, std::string> read_output_ack(
    const nlohmann::json& m) {
  if (!positive_id(m, "job") || !m.contains("end") || !m["end"].is_number_integer() ||
      m["end"].get<std::int64_t>() < 0) {
    return fail(std::string("output_ack: needs a job id and \"end\""));
  }
  return std::pair{m["job"].get<std::int64_t>(), m["end"].get<std::int64_t>()};
}

namespace {

nlohmann::json exec_json(const char* type, const ExecOrder& o) {
  return {{"type", type},   {"request", o.request}, {"job", o.job},
          {"node", o.node}, {"command", o.command}, {"stream", o.stream}};
}

bool valid_request(const nlohmann::json& m) {
  return m.contains("request") && m["request"].is_string() &&
         !m["request"].get<std::string>().empty() && m["request"].get<std::string>().size() <= 64;
}

}  // namespace

nlohmann::json exec_request_message(const ExecOrder& o) {
  return exec_json("exec_request", o);
}

nlohmann::json exec_message(const ExecOrder& o) {
  return exec_json("exec", o);
}

Result<ExecOrder, std::string> read_exec(const nlohmann::json& m) {
  if (!valid_request(m)) return fail(std::string("exec: \"request\" must be a request id"));
  if (!positive_id(m, "job")) return fail(std::string("exec: \"job\" must be a job id"));
  if (!m.contains("node") || !m["node"].is_string() ||
      !valid_node_name(m["node"].get<std::string>())) {
    return fail(std::string("exec: \"node\" must be a node name"));
  }
  if (!m.contains("command") || !m["command"].is_string() ||
      m["command"].get<std::string>().empty() || m["command"].get<std::string>().size() > 65536) {
    return fail(std::string("exec: \"command\" must be a shell command line"));
  }
  return ExecOrder{.request = m["request"].get<std::string>(),
                   .job = m["job"].get<std::int64_t>(),
                   .node = m["node"].get<std::string>(),
                   .command = m["command"].get<std::string>(),
                   .stream = m.value("stream", false) == true};
}

nlohmann::json exec_report_message(const ExecReport& r) {
  nlohmann::json j{
      {"type", "exec_report"}, {"request", r.request}, {"job", r.job}, {"state", r.state}};
  if (r.state == "ended") j["exit_code"] = r.exit_code;
  if (!r.message.empty()) j["message"] = r.message;
  return j;
}

Result<ExecReport, std::string> read_exec_report(const nlohmann::json& m) {
  if (!valid_request(m)) return fail(std::string("exec_report: \"request\" must be a request id"));
  if (!positive_id(m, "job")) return fail(std::string("exec_report: \"job\" must be a job id"));
  ExecReport r;
  r.request = m["request"].get<std::string>();
  r.job = m["job"].get<std::int64_t>();
  r.state = m.value("state", std::string());
  if (r.state != "started" && r.state != "ended" && r.state != "failed" && r.state != "stdout" &&
      r.state != "stderr") {
    return fail(
        std::string("exec_report: \"state\" must be started, stdout, stderr, ended or failed"));
  }
  if (r.state == "ended") {
    if (!m.contains("exit_code") || !m["exit_code"].is_number_integer()) {
      return fail(std::string("exec_report: an ended exec needs \"exit_code\""));
    }
    r.exit_code = m["exit_code"].get<int>();
  }
  if (m.contains("message") && m["message"].is_string()) {
    r.message = m["message"].get<std::string>().substr(0, 4096);
  }
  return r;
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
