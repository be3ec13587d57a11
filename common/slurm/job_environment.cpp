#include "common/slurm/job_environment.hpp"

#include "common/comma_list.hpp"
#include "common/slurm/hostlist.hpp"
#include "common/slurm/sbatch_script.hpp"

namespace sy::slurm {
namespace {

OutputNames names_of(const JobRecord& job, const std::vector<std::string>& nodes) {
  return {.job = job.id,
          .name = job.spec.slurm ? job.spec.slurm->job_name : job.spec.name,
          .array_job = job.array_id.value_or(job.id),
          .array_index = job.array_index,
          .user = job.user,
          .first_node = nodes.empty() ? std::string() : nodes.front()};
}

}  // namespace

std::map<std::string, std::string> job_environment(const JobRecord& job,
                                                   const std::vector<std::string>& nodes) {
  const SlurmCompat compat = job.spec.slurm.value_or(SlurmCompat{});
  const int nnodes = static_cast<int>(nodes.size());
  const int per_node = compat.ntasks_per_node;
  const std::string nodelist = compress_hostlist(nodes);
  const std::string id = std::to_string(job.id);
  std::map<std::string, std::string> env{
      {"SLURM_JOB_ID", id},
      {"SLURM_JOBID", id},
      {"SLURM_JOB_NAME", compat.job_name.empty() ? job.spec.name : compat.job_name},
      {"SLURM_JOB_USER", job.user},
      {"SLURM_CLUSTER_NAME", "switchyard"},
      {"SLURM_JOB_PARTITION", "switchyard"},
      {"SLURM_NNODES", std::to_string(nnodes)},
      {"SLURM_JOB_NUM_NODES", std::to_string(nnodes)},
      {"SLURM_NODELIST", nodelist},
      {"SLURM_JOB_NODELIST", nodelist},
      {"SLURM_NTASKS", std::to_string(per_node * nnodes)},
      {"SLURM_NPROCS", std::to_string(per_node * nnodes)},
      {"SLURM_NTASKS_PER_NODE", std::to_string(per_node)},
      // "8(x2)": 8 tasks on each of 2 nodes, Open MPI and srun read this form.
      {"SLURM_TASKS_PER_NODE",
       std::to_string(per_node) + (nnodes > 1 ? "(x" + std::to_string(nnodes) + ")" : "")},
      {"SLURM_GPUS_PER_NODE", std::to_string(job.spec.resources.gpus_per_node)},
      {"SLURM_SUBMIT_DIR", job.spec.workdir.value_or("")},
      {"SLURM_SUBMIT_HOST", compat.submit_host},
      // The batch script is task 0 of the batch step on the first node.
      {"SLURM_PROCID", "0"},
      {"SLURM_LOCALID", "0"},
  };
  const int cpus_per_node = job.spec.resources.cpus_per_gpu * job.spec.resources.gpus_per_node;
  env["SLURM_JOB_CPUS_PER_NODE"] =
      std::to_string(cpus_per_node) + (nnodes > 1 ? "(x" + std::to_string(nnodes) + ")" : "");
  if (compat.cpus_per_task) env["SLURM_CPUS_PER_TASK"] = std::to_string(*compat.cpus_per_task);
  if (job.spec.account) env["SLURM_JOB_ACCOUNT"] = *job.spec.account;
  if (job.array_id) {
    env["SLURM_ARRAY_JOB_ID"] = std::to_string(*job.array_id);
    env["SLURM_ARRAY_TASK_ID"] = std::to_string(job.array_index.value_or(0));
    if (job.spec.array && !job.spec.array->indices.empty()) {
      const auto& idx = job.spec.array->indices;
      env["SLURM_ARRAY_TASK_COUNT"] = std::to_string(idx.size());
      env["SLURM_ARRAY_TASK_MIN"] = std::to_string(idx.front());
      env["SLURM_ARRAY_TASK_MAX"] = std::to_string(idx.back());
    }
  }
  return env;
}

std::map<std::string, std::string> node_environment(int node_index, const std::string& node,
                                                    const std::vector<int>& gpus) {
  std::vector<std::int64_t> ids(gpus.begin(), gpus.end());
  return {{"SLURM_NODEID", std::to_string(node_index)},
          {"SLURMD_NODENAME", node},
          {"SLURM_JOB_GPUS", join_commas(ids)},
          {"SLURM_GPUS_ON_NODE", std::to_string(gpus.size())}};
}

OutputFiles output_files(const JobRecord& job, const std::vector<std::string>& nodes) {
  if (!job.spec.slurm) return {};
  const OutputNames names = names_of(job, nodes);
  OutputFiles out;
  out.stdout_path = expand_output_pattern(job.spec.slurm->output, names);
  out.stderr_path = job.spec.slurm->error ? expand_output_pattern(*job.spec.slurm->error, names)
                                          : out.stdout_path;
  return out;
}

}  // namespace sy::slurm
