#pragma once
// JobSupervisor: starts the jobs the controller launches on this node and watches them to the
// end. A job's process runs in its own process group with its GPUs (CUDA_VISIBLE_DEVICES) and
// its datasets' verified Tier-0 copies, pinned in the cache for as long as it runs
// (SY_DATASET_<NAME>, SY_DATASETS_DIR); its output goes to SPOOL/JOB/output.log. Stopping a job
// sends SIGTERM to its group, then SIGKILL after the grace period; whatever of the group is left
// when its main process ends is killed too. Then the directories the job named as outputs are
// copied to shared storage (stage_out.hpp; reported as "staging_out"). Ends are reported until the
// controller acknowledges them (also in every registration), so none is lost to a dropped
// connection. Thread-safe.
//
// Jobs run as the agent's user, and they die with the agent (PR_SET_PDEATHSIG): a restarted
// agent does not adopt them.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/stage_out.hpp"
#include "agent/staging/tier0_cache.hpp"
#include "common/agent_protocol.hpp"

namespace sy::agent {

// The variable a job reads a dataset's path from: SY_DATASET_ and the name in capitals with
// every character but letters and digits made '_' (imagenet-1k -> SY_DATASET_IMAGENET_1K).
std::string dataset_variable(const std::string& dataset);

class JobSupervisor {
 public:
  using Send = std::function<void(nlohmann::json)>;
  JobSupervisor(staging::Tier0Cache& cache, std::filesystem::path spool, Send send,
                std::chrono::milliseconds grace, StageOutOptions stage_out = {});
  ~JobSupervisor();  // stops every job still running (TERM, then KILL) and waits for them
  JobSupervisor(const JobSupervisor&) = delete;
  JobSupervisor& operator=(const JobSupervisor&) = delete;

  // Starts the job, or reports again how it stands when it is already known (a repeated order
  // after a reconnect starts nothing twice).
  void launch(const protocol::LaunchOrder& order);
  void stop(std::int64_t job, const std::string& reason);
  void acknowledge(std::int64_t job);  // the controller recorded its end
  // Running jobs and unacknowledged ends, for the registration.
  std::vector<protocol::JobReport> reports() const;

 private:
  struct Job;
  void watch(Job& job);
  void report(const protocol::JobReport& r);

  staging::Tier0Cache& cache_;
  std::filesystem::path spool_;
  Send send_;
  std::chrono::milliseconds grace_;
  StageOutOptions stage_out_;
  mutable std::mutex mutex_;
  std::map<std::int64_t, std::shared_ptr<Job>> jobs_;
};

}  // namespace sy::agent
