#pragma once
// JobCgroup: a job's processes on this node in a cgroup v2 directory of their own, so that every
// process they start can be found and killed, including daemons that leave their process group
// (Open MPI's orted, anything that calls setsid). Only the unified tree's core files are used
// (cgroup.procs, cgroup.kill, cgroup.events), no controllers, so it works wherever the agent's
// own cgroup is writable: a systemd service with Delegate=yes, or root on a hybrid layout.
// Where none is, the supervisor falls back to process groups.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace sy::agent {

// The directory of the cgroup v2 tree this process belongs to, if the agent can create cgroups
// below it: "0::/path" of /proc/self/cgroup under the cgroup2 mount (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified on a hybrid layout).
std::optional<std::filesystem::path> find_own_cgroup();

class JobCgroup {
 public:
  // Creates `parent`/`name` (empty when it exists already: a restarted agent reuses it).
  static Result<JobCgroup, std::string> create(const std::filesystem::path& parent,
                                               const std::string& name);
  JobCgroup() = default;

  const std::filesystem::path& path() const { return path_; }
  // The file a child writes "0" to (before exec) to move itself in; open it in the parent.
  std::string procs_file() const { return (path_ / "cgroup.procs").string(); }
  std::vector<pid_t> pids() const;
  bool empty() const { return pids().empty(); }
  // SIGKILL goes through cgroup.kill where the kernel has it (no pid can be reused or escape
  // between reading the list and signalling it); other signals to every listed process.
  void signal(int sig) const;
  // Kills what is left, waits (bounded) for it to go, removes the directory. True when removed.
  bool remove() const;

 private:
  explicit JobCgroup(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

}  // namespace sy::agent
