#pragma once
// Slurm's job-side commands inside a job submitted as a batch script, so unchanged scripts run:
//
//   srun [OPTIONS] COMMAND...   starts COMMAND as the step's tasks on the job's nodes: one
//                               `sy-agent task` per node through the agents (as `sy-agent rsh`
//                               does for mpirun), each starting its node's share of the tasks
//                               with SLURM_PROCID, SLURM_LOCALID and SLURM_NODEID, and the
//                               caller's environment; their output comes back to srun's own
//                               stdout and stderr (so `$(srun hostname)` and `srun ... | tee`
//                               work); waits for all and exits with the worst status.
//   scontrol show hostnames [LIST]   the names in a host list (default SLURM_JOB_NODELIST)
//   scontrol show hostlist NAMES     the reverse
//   sy-agent batch --stdout F --stderr F -- SCRIPT
//                               the batch script with its output in the files sbatch's
//                               --output/--error named, opened as the job's user
//
// The agent links `srun`, `scontrol` and `sy-agent` to itself in the job's bin directory, first
// on the job's PATH; main() dispatches on the name it was started by.

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace sy::agent {

// Where srun's tasks go: its options, the job's nodes and the batch script's SLURM_NTASKS and
// SLURM_NTASKS_PER_NODE (srun reads them as defaults, as Slurm's does).
struct SrunRequest {
  std::optional<int> nodes, ntasks, ntasks_per_node;
  std::string nodelist;  // -w; empty: the first --nodes of the job's
};
struct SrunStep {
  std::vector<std::string> nodes;
  std::vector<int> tasks;  // per node, block distribution: procids run node by node
};
Result<SrunStep, std::string> plan_srun_step(const SrunRequest& request,
                                             const std::vector<std::string>& job_nodes,
                                             std::optional<int> env_ntasks, int env_per_node);

// What `sy-agent batch` executes for SCRIPT ARGS, given the script's first line: the script
// itself, or, for a login shell (#!/bin/bash -l, common on HPC), the interpreter reading its
// login profile and then putting the job's srun and scontrol first on PATH again before it runs
// the script.
std::vector<std::string> batch_argv(const std::string& first_line,
                                    const std::vector<std::string>& script_and_args);

int run_srun_command(int argc, char** argv);
int run_scontrol_command(int argc, char** argv);
int run_batch_command(int argc, char** argv);
// `sy-agent task SPEC`: what srun asks each node to run (SPEC: base64 of a JSON task list).
int run_task_command(int argc, char** argv);

}  // namespace sy::agent
