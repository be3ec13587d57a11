#pragma once
// What a job submitted as a Slurm batch script is told, as Slurm would tell it: the job-wide
// SLURM_* variables, each node's own (SLURM_NODEID, SLURMD_NODENAME, its GPUs), and the files
// the batch script's output goes to. Pure: the controller adds them to the launch orders.

#include <map>
#include <string>
#include <vector>

#include "common/job_record.hpp"

namespace sy::slurm {

// `nodes` in the job's order (the first runs the batch script).
std::map<std::string, std::string> job_environment(const JobRecord& job,
                                                   const std::vector<std::string>& nodes);
std::map<std::string, std::string> node_environment(int node_index, const std::string& node,
                                                    const std::vector<int>& gpus);

struct OutputFiles {
  std::string stdout_path, stderr_path;  // as the job's working directory sees them
};
OutputFiles output_files(const JobRecord& job, const std::vector<std::string>& nodes);

}  // namespace sy::slurm
