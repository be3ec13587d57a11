#include "common/job_spec.hpp"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "common/dataset/manifest.hpp"
#include "common/schema_validator.hpp"
#include "common/unit_fields.hpp"
#include "common/units.hpp"

namespace sy {
namespace {

const SchemaValidator& job_schema() {
  static const std::shared_ptr<SchemaValidator> v = SchemaValidator::builtin("job.schema.json");
  return *v;
}

Launcher parse_launcher(const std::string& s) {
  if (s == "mpi") return Launcher::mpi;
  if (s == "env") return Launcher::env;
  return Launcher::none;  // the schema admits only mpi, env, none
}

std::string default_name(const JobSpec& spec) {
  if (spec.command.empty()) return "script";
  std::string base = spec.command.front();
  if (auto slash = base.find_last_of('/'); slash != std::string::npos)
    base = base.substr(slash + 1);
  static const std::regex bad("[^A-Za-z0-9._-]");
  base = std::regex_replace(base, bad, "_");
  if (base.empty() || base.front() == '.' || base.front() == '_' || base.front() == '-') {
    base = "job" + base;
  }
  return base.substr(0, 64);
}

Result<void, SpecError> read_resources(const Document& doc, const nlohmann::json& r,
                                       Resources& out) {
  if (r.contains("nodes")) out.nodes = r["nodes"].get<int>();
  if (r.contains("gpus_per_node")) out.gpus_per_node = r["gpus_per_node"].get<int>();
  if (r.contains("cpus_per_gpu")) out.cpus_per_gpu = r["cpus_per_gpu"].get<int>();
  if (r.contains("memory_per_gpu")) {
    auto mib = size_field_mib(doc, r["memory_per_gpu"], "resources.memory_per_gpu");
    if (!mib) return fail(std::move(mib).error());
    out.memory_per_gpu_mib = mib.value();
  }
  if (r.contains("gpu_model")) out.gpu_model = r["gpu_model"].get<std::string>();
  if (r.contains("features")) {
    out.features = r["features"].get<std::vector<std::string>>();
    std::sort(out.features.begin(), out.features.end());
  }
  if (r.contains("gpu_memory")) {
    auto mib = size_field_mib(doc, r["gpu_memory"], "resources.gpu_memory");
    if (!mib) return fail(std::move(mib).error());
    out.gpu_memory_mib = mib.value();
  }
  return {};
}

}  // namespace

std::string_view launcher_name(Launcher launcher) {
  switch (launcher) {
    case Launcher::mpi:
      return "mpi";
    case Launcher::env:
      return "env";
    case Launcher::none:
      return "none";
  }
  return "none";
}

namespace {

// Maps a document that already matches the job schema.
Result<JobSpec, SpecError> map_valid_document(const Document& doc) {
  const nlohmann::json& j = doc.root();
  JobSpec spec;
  const bool has_command = j.contains("command"), has_script = j.contains("script");
  if (has_command && has_script) {
    return fail(doc.error_at("script", "give either 'command' or 'script', not both"));
  }
  if (!has_command && !has_script) {
    return fail(doc.error_at("command", "is required (or give 'script')"));
  }
  if (has_command) spec.command = j["command"].get<std::vector<std::string>>();
  if (has_script) spec.script = j["script"].get<std::string>();
  if (j.contains("resources")) {
    if (auto r = read_resources(doc, j["resources"], spec.resources); !r)
      return fail(std::move(r).error());
  }
  if (j.contains("launcher")) spec.launcher = parse_launcher(j["launcher"].get<std::string>());
  if (j.contains("datasets")) spec.datasets = j["datasets"].get<std::vector<std::string>>();
  if (j.contains("outputs")) {
    for (std::size_t i = 0; i < j["outputs"].size(); ++i) {
      const std::string at = Document::item_path("outputs", i);
      Output out{.path = j["outputs"][i]["path"].get<std::string>(),
                 .to = j["outputs"][i]["to"].get<std::string>()};
      while (out.path.size() > 1 && out.path.back() == '/')
        out.path.pop_back();
      while (out.to.size() > 1 && out.to.back() == '/')
        out.to.pop_back();
      // The agent copies from below the job's working directory and nowhere else.
      if (auto ok = dataset::check_relative_path(out.path); !ok)
        return fail(doc.error_at(
            at + ".path", "must stay inside the job's working directory (" + ok.error() + ")"));
      for (const auto& part : std::filesystem::path(out.to)) {
        if (part == ".." || part == ".") {
          return fail(doc.error_at(at + ".to", "must not contain '.' or '..' components"));
        }
      }
      spec.outputs.push_back(std::move(out));
    }
  }
  if (j.contains("time_limit")) {
    auto s = duration_field_s(doc, j["time_limit"], "time_limit");
    if (!s) return fail(std::move(s).error());
    spec.time_limit_s = s.value();
  }
  if (j.contains("priority")) spec.priority = j["priority"].get<int>();
  if (j.contains("account")) spec.account = j["account"].get<std::string>();
  if (j.contains("env")) {
    static const std::regex var_name("[A-Za-z_][A-Za-z0-9_]*");
    for (const auto& [key, value] : j["env"].items()) {
      if (!std::regex_match(key, var_name)) {
        return fail(doc.error_at(Document::child_path("env", key),
                                 "must be a variable name: letters, digits and '_', "
                                 "not starting with a digit"));
      }
      spec.env[key] = value.get<std::string>();
    }
  }
  if (j.contains("workdir")) spec.workdir = j["workdir"].get<std::string>();
  if (j.contains("requeue")) spec.requeue = j["requeue"].get<bool>();
  if (j.contains("array")) {
    auto a = parse_array_spec(j["array"].get<std::string>());
    if (!a) return fail(doc.error_at("array", a.error()));
    spec.array = std::move(a).value();
  }
  if (j.contains("dependencies")) {
    const auto& d = j["dependencies"];
    if (d.contains("after_ok")) spec.after_ok = d["after_ok"].get<std::vector<std::int64_t>>();
    if (d.contains("after_any")) spec.after_any = d["after_any"].get<std::vector<std::int64_t>>();
  }
  if (j.contains("every")) {
    auto s = duration_field_s(doc, j["every"], "every");
    if (!s) return fail(std::move(s).error());
    if (s.value() < JobSpec::kMinPeriodS) {
      return fail(doc.error_at("every", "must be at least 1m (a bare integer is minutes)"));
    }
    spec.every_s = s.value();
  }
  if (j.contains("slurm")) {
    const auto& s = j["slurm"];
    SlurmCompat c;
    c.ntasks_per_node = s.value("ntasks_per_node", 1);
    if (s.contains("cpus_per_task")) c.cpus_per_task = s["cpus_per_task"].get<int>();
    c.output = s["output"].get<std::string>();
    if (s.contains("error")) c.error = s["error"].get<std::string>();
    c.job_name = s.value("job_name", std::string());
    c.submit_host = s.value("submit_host", std::string());
    spec.slurm = std::move(c);
  }
  if (spec.array && spec.every_s) {
    return fail(doc.error_at("every", "a job array cannot also recur; give one or the other"));
  }
  spec.name = j.contains("name") ? j["name"].get<std::string>() : default_name(spec);
  return spec;
}

}  // namespace

Result<JobSpec, SpecError> job_spec_from_document(const Document& doc) {
  if (auto valid = job_schema().validate(doc); !valid) return fail(std::move(valid).error());
  return map_valid_document(doc);
}

Result<JobSpec, SpecError> job_spec_from_stored_json(const nlohmann::json& canonical) {
  try {
    return map_valid_document(Document::from_value(canonical));
  } catch (const nlohmann::json::exception& e) {
    return fail(SpecError{"", 0, 0, "", std::string("stored spec is malformed: ") + e.what()});
  }
}

Result<JobSpec, SpecError> job_spec_from_yaml(std::string_view text, const std::string& file) {
  auto doc = parse_yaml_document(text, file);
  if (!doc) return fail(std::move(doc).error());
  return job_spec_from_document(doc.value());
}

Result<JobSpec, SpecError> job_spec_from_json_text(std::string_view text) {
  auto doc = parse_json_document(text);
  if (!doc) return fail(std::move(doc).error());
  return job_spec_from_document(doc.value());
}

nlohmann::json job_spec_to_json(const JobSpec& spec) {
  nlohmann::json j;
  j["name"] = spec.name;
  if (spec.script) {
    j["script"] = *spec.script;
  } else {
    j["command"] = spec.command;
  }
  nlohmann::json r;
  r["nodes"] = spec.resources.nodes;
  r["gpus_per_node"] = spec.resources.gpus_per_node;
  r["cpus_per_gpu"] = spec.resources.cpus_per_gpu;
  if (spec.resources.memory_per_gpu_mib) {
    r["memory_per_gpu"] = format_size_mib(*spec.resources.memory_per_gpu_mib);
  }
  if (spec.resources.gpu_model) r["gpu_model"] = *spec.resources.gpu_model;
  if (spec.resources.gpu_memory_mib)
    r["gpu_memory"] = format_size_mib(*spec.resources.gpu_memory_mib);
  if (!spec.resources.features.empty()) r["features"] = spec.resources.features;
  j["resources"] = r;
  j["launcher"] = launcher_name(spec.launcher);
  j["datasets"] = spec.datasets;
  if (!spec.outputs.empty()) {
    j["outputs"] = nlohmann::json::array();
    for (const auto& o : spec.outputs)
      j["outputs"].push_back({{"path", o.path}, {"to", o.to}});
  }
  if (spec.time_limit_s) j["time_limit"] = format_duration(*spec.time_limit_s);
  j["priority"] = spec.priority;
  if (spec.account) j["account"] = *spec.account;
  j["env"] = spec.env;
  if (spec.workdir) j["workdir"] = *spec.workdir;
  j["requeue"] = spec.requeue;
  if (spec.array) j["array"] = spec.array->text;
  if (!spec.after_ok.empty() || !spec.after_any.empty()) {
    nlohmann::json d = nlohmann::json::object();
    if (!spec.after_ok.empty()) d["after_ok"] = spec.after_ok;
    if (!spec.after_any.empty()) d["after_any"] = spec.after_any;
    j["dependencies"] = d;
  }
  if (spec.every_s) j["every"] = format_duration(*spec.every_s);
  if (spec.slurm) {
    nlohmann::json s{{"ntasks_per_node", spec.slurm->ntasks_per_node},
                     {"job_name", spec.slurm->job_name},
                     {"output", spec.slurm->output},
                     {"submit_host", spec.slurm->submit_host}};
    if (spec.slurm->cpus_per_task) s["cpus_per_task"] = *spec.slurm->cpus_per_task;
    if (spec.slurm->error) s["error"] = *spec.slurm->error;
    j["slurm"] = s;
  }
  return j;
}

}  // namespace sy
