#pragma once
// JobSpec: a validated job request, the one C++ form of schemas/job.schema.json.
// Every path in (YAML file, JSON API body) goes through job_spec_from_document, so the CLI and
// the controller accept and refuse exactly the same jobs with the same messages.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/array_spec.hpp"
#include "common/document.hpp"
#include "common/result.hpp"
#include "common/spec_error.hpp"

namespace sy {

enum class Launcher { mpi, env, none };
std::string_view launcher_name(Launcher launcher);

struct Resources {
  int nodes = 1;
  int gpus_per_node = 1;
  int cpus_per_gpu = 1;
  std::optional<std::int64_t> memory_per_gpu_mib;
  std::optional<std::string> gpu_model;        // substring of the GPU model, any case
  std::optional<std::int64_t> gpu_memory_mib;  // least memory per GPU
  std::vector<std::string> features;           // sorted; the node must have each
  bool operator==(const Resources&) const = default;
};

// A directory the job writes that is copied to shared storage after it ends (stage-out).
struct Output {
  std::string path;  // relative to the job's working directory, checked, no trailing '/'
  std::string to;    // absolute, no '..'
  bool operator==(const Output&) const = default;
};

// A job submitted as a Slurm batch script: what its processes are told as Slurm would tell them
// (SLURM_* variables, srun's defaults) and where the script's output goes.
struct SlurmCompat {
  int ntasks_per_node = 1;
  std::optional<int> cpus_per_task;
  std::string job_name;              // as written (SLURM_JOB_NAME, %x)
  std::string output;                // pattern, relative to the working directory or absolute
  std::optional<std::string> error;  // none: with the output
  std::string submit_host;
  bool operator==(const SlurmCompat&) const = default;
};

struct JobSpec {
  static constexpr int kDefaultPriority = 100;

  std::string name;
  std::vector<std::string> command;   // empty when `script` is set
  std::optional<std::string> script;  // set when `command` is empty
  Resources resources;
  Launcher launcher = Launcher::none;
  std::vector<std::string> datasets;
  std::vector<Output> outputs;
  std::optional<std::int64_t> time_limit_s;  // none: the partition's default applies
  int priority = kDefaultPriority;
  std::optional<std::string> account;
  std::map<std::string, std::string> env;
  std::optional<std::string> workdir;
  bool requeue = false;
  std::optional<ArraySpec> array;       // one task per index
  std::vector<std::int64_t> after_ok;   // job ids that must complete first
  std::vector<std::int64_t> after_any;  // job ids that must end first, however
  std::optional<std::int64_t> every_s;  // recurring: the period
  std::optional<SlurmCompat> slurm;     // submitted as an sbatch script

  static constexpr std::int64_t kMinPeriodS = 60;

  int total_gpus() const { return resources.nodes * resources.gpus_per_node; }
  bool operator==(const JobSpec&) const = default;
};

// Validates against the job schema, then the rules a schema cannot say (command xor script,
// duration and size syntax, variable names), and applies defaults.
Result<JobSpec, SpecError> job_spec_from_document(const Document& doc);
// For canonical JSON this program wrote itself (e.g. read back from its own database): maps
// without the schema check, which would only repeat the check made when it was accepted.
Result<JobSpec, SpecError> job_spec_from_stored_json(const nlohmann::json& canonical);
// Convenience for callers holding text: YAML (file named `file` in errors) or a JSON body.
Result<JobSpec, SpecError> job_spec_from_yaml(std::string_view text, const std::string& file);
Result<JobSpec, SpecError> job_spec_from_json_text(std::string_view text);

// The canonical JSON form, defaults filled in. job_spec_from_document reads it back unchanged.
nlohmann::json job_spec_to_json(const JobSpec& spec);

}  // namespace sy
