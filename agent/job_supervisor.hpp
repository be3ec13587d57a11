#pragma once
// JobSupervisor: starts the processes of the jobs the controller launches on this node and
// watches them to the end. What runs is worked out by launch_plan.hpp (one process for `none`,
// one per GPU for `env`, mpirun for `mpi`, plus whatever another node of the job asks through
// exec orders: Open MPI's daemons). Every process of a job runs in the job's cgroup where the
// agent can make one (job_cgroup.hpp), else in a process group of its own; each sees only its
// GPUs, is bound to the CPUs near them, and runs as the submitting user when the agent is root.
// Output of every process goes, labelled with its rank, to SPOOL/JOB/output.log, which is shipped
// to the controller as it grows (log_shipper.hpp).
//
// A rank that fails stops the job's other processes on this node (TERM, KILL after the grace
// period); so does a stop order. When the job's processes here have ended (an mpi job's other
// nodes end when stopped), whatever they left running is killed, the first node copies the
// job's outputs to shared storage (stage_out.hpp; reported as "staging_out"), and the end is
// reported, with the first failing rank, until the controller acknowledges it (also in every
// registration). Thread-safe.
//
// Jobs die with the agent (PR_SET_PDEATHSIG): a restarted agent does not adopt them.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/job_limits.hpp"
#include "agent/stage_out.hpp"
#include "agent/staging/tier0_cache.hpp"
#include "common/agent_protocol.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::agent {

struct LaunchOptions {
  std::string node;                              // this node's name (names its job cgroups)
  const topo::NodeTopology* topology = nullptr;  // for CPU binding and NCCL hints
  std::string agent_path;                        // default: this program
  std::string mpirun = "mpirun";
  std::string hostname;  // default: gethostname()
  // Where job cgroups are made; nullopt: process groups only.
  std::optional<std::filesystem::path> cgroup_parent;
  // The controllers that hold jobs to their CPUs, memory and GPU devices (none: not enforced;
  // CPU binding still keeps processes to the job's CPUs).
  CgroupControllers controllers;
  std::string socket;  // the rsh socket, given to jobs as SY_AGENT_SOCKET
};

class JobSupervisor {
 public:
  using Send = std::function<void(nlohmann::json)>;
  JobSupervisor(staging::Tier0Cache& cache, std::filesystem::path spool, Send send,
                std::chrono::milliseconds grace, StageOutOptions stage_out = {},
                LaunchOptions launch = {});
  ~JobSupervisor();  // stops every job still running (TERM, then KILL) and waits for them
  JobSupervisor(const JobSupervisor&) = delete;
  JobSupervisor& operator=(const JobSupervisor&) = delete;

  // Starts the job, or reports again how it stands when it is already known (a repeated order
  // after a reconnect starts nothing twice).
  void launch(const protocol::LaunchOrder& order);
  void stop(std::int64_t job, const std::string& reason);
  void acknowledge(std::int64_t job);  // the controller recorded its end
  // Runs an exec order's command inside the job (reported with exec_report).
  void exec(const protocol::ExecOrder& order);
  void output_acknowledged(std::int64_t job, std::int64_t end);
  // The connection to the controller was made again: resend logs and unacknowledged ends.
  void reconnected();
  // Running jobs and unacknowledged ends, for the registration.
  std::vector<protocol::JobReport> reports() const;
  // Whether `token` is the secret the job's processes were given (SY_JOB_TOKEN) and the job
  // still runs here: how `sy-agent rsh` proves it speaks for the job.
  bool job_token_matches(std::int64_t job, const std::string& token) const;
  const std::filesystem::path& spool() const { return spool_; }

 private:
  struct Job;
  struct Proc;
  void watch(Job& job);
  void finish(Job& job, const std::vector<std::unique_ptr<Proc>>& procs, const Proc* first_failure);
  void report(const protocol::JobReport& r);
  // Sends what `fd` (a streamed exec's non-blocking pipe) holds now to the exec's asker: 1 when
  // it sent some, 0 at the pipe's end, -1 when it holds nothing yet.
  int forward_output(const Job& job, const Proc& p, const staging::Fd& fd);

  staging::Tier0Cache& cache_;
  std::filesystem::path spool_;
  Send send_;
  std::chrono::milliseconds grace_;
  StageOutOptions stage_out_;
  LaunchOptions launch_;
  mutable std::mutex mutex_;
  std::map<std::int64_t, std::shared_ptr<Job>> jobs_;
};

}  // namespace sy::agent
