#pragma once
// JobCgroup: a job's processes on this node in a cgroup v2 directory of their own, so that every
// process they start can be found and killed, including daemons that leave their process group
// (Open MPI's orted, anything that calls setsid). Only the unified tree's core files are used
// (cgroup.procs, cgroup.kill, cgroup.events), no controllers, so it works wherever the agent's
// own cgroup is writable: a systemd service with Delegate=yes, or root on a hybrid layout.
// Where none is, the supervisor falls back to process groups. limit() adds the job's CPU,
// memory and device limits (agent/job_limits.hpp): in this directory on cgroup v2, and in
// directories of the same name in the v1 hierarchies where the controllers are there.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/job_limits.hpp"
#include "common/result.hpp"

namespace sy::agent {

// The directory of the cgroup v2 tree this process belongs to, if the agent can create cgroups
// below it: "0::/path" of /proc/self/cgroup under the cgroup2 mount (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified on a hybrid layout).
std::optional<std::filesystem::path> find_own_cgroup();

// The job cgroups an earlier agent of this node left in `dirs` when it died (named
// sy-NODE-PID-job-ID, PID no longer running): removed, as their processes died with it. Returns
// how many. Cgroups of a live agent, this one's included, are left alone.
int remove_stale_job_cgroups(const std::vector<std::filesystem::path>& dirs,
                             const std::string& node);

class JobCgroup {
 public:
  // Creates `parent`/`name` (empty when it exists already: a restarted agent reuses it).
  static Result<JobCgroup, std::string> create(const std::filesystem::path& parent,
                                               const std::string& name);
  // One on the v1 hierarchies alone (a host without a writable unified tree): limit() makes it.
  static JobCgroup v1_only(const std::string& name);
  JobCgroup() = default;

  // Makes the v1 directories the controllers need and writes the limits. Errors name the file.
  Result<void, std::string> limit(const JobLimits& limits, const CgroupControllers& controllers);

  // The unified directory, or the first v1 one.
  std::filesystem::path path() const;
  // The files a child writes "0" to (before exec) to move itself in; open them in the parent.
  std::vector<std::string> procs_files() const;
  std::vector<pid_t> pids() const;
  bool empty() const { return pids().empty(); }
  // SIGKILL goes through cgroup.kill where the kernel has it (no pid can be reused or escape
  // between reading the list and signalling it); other signals to every listed process.
  void signal(int sig) const;
  // Kills what is left, waits (bounded) for it to go, removes the directory. True when removed.
  bool remove() const;

 private:
  explicit JobCgroup(std::filesystem::path p) : path_(std::move(p)), name_(path_.filename()) {}
  std::filesystem::path path_;  // on the unified tree; empty for v1_only
  std::string name_;
  std::vector<std::filesystem::path> v1_dirs_;
};

}  // namespace sy::agent
