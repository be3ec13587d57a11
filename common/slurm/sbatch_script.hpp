#pragma once
// A Slurm batch script as a Switchyard job: the #SBATCH directives (and sbatch options given on
// the command line, which win) become a job document, the script runs unchanged on the first
// node with Slurm's variables, and `srun`/`scontrol` inside it reach the job's other nodes.
// A directive Switchyard cannot honour is refused with its line (every refused one in a script
// is reported together); one that only tunes what Switchyard decides anyway (mail, partition,
// hints) is accepted with a warning that says so.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "common/spec_error.hpp"

namespace sy::slurm {

struct SbatchContext {
  std::string file;         // the script's name, in messages
  std::string submit_dir;   // absolute: the job's working directory (SLURM_SUBMIT_DIR)
  std::string submit_host;  // SLURM_SUBMIT_HOST
  // GPUs of the cluster's largest node: what --exclusive gives a job (all of a node's GPUs, as
  // Slurm gives it every GRES). 0: unknown, and --exclusive then needs an explicit GPU count.
  int whole_node_gpus = 0;
  // The submitter's environment, exported to the job as sbatch's --export=ALL (the default) does.
  std::map<std::string, std::string> environment;
  std::vector<std::string> command_line;  // sbatch options before the script's name
};

struct SbatchJob {
  nlohmann::json job;                 // a job document for job_spec_from_document
  std::vector<std::string> warnings;  // "FILE:LINE: --mail-type: ignored: ..."
  // --dependency=singleton: the job waits for every earlier active job of its user with its
  // name; the submitter resolves that to afterany on those jobs (it alone can list them).
  bool singleton = false;
};

// True when the text is a batch script rather than a YAML job: a "#!" first line or an #SBATCH
// directive in its leading comments.
bool looks_like_batch_script(std::string_view text);

Result<SbatchJob, SpecError> job_from_sbatch(std::string_view script, const SbatchContext& ctx);

// An output file name pattern with Slurm's replacements: %j job id, %x name, %A array job id, %a
// array index, %u user, %N first node, %n node index, %t task, %s step, %% a '%'; "%4j" pads
// the number to 4 digits.
struct OutputNames {
  std::int64_t job = 0;
  std::string name;
  std::int64_t array_job = 0;  // the job itself when not in an array
  std::optional<int> array_index;
  std::string user;
  std::string first_node;
};
std::string expand_output_pattern(std::string_view pattern, const OutputNames& names);

}  // namespace sy::slurm
