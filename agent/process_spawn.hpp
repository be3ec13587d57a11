#pragma once
// Starting one process of a job: fork, then in the child (async-signal-safe calls only) its own
// process group, death with the agent, the job's cgroup, CPU binding, the user's identity, the
// working directory, exec. A child that cannot exec says why through a close-on-exec pipe, so
// "no such program" is an error here rather than an exit code 127 later.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "agent/staging/beneath.hpp"
#include "common/result.hpp"

namespace sy::agent {

// Who a job runs as, looked up before fork (getpwnam is not async-signal-safe).
struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string name, home;
};
// The identity of `user` on this node: an error when it has no such user.
Result<Identity, std::string> identity_of(const std::string& user);

struct SpawnSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value"
  std::string workdir;
  std::string cpus;                       // cpulist; empty: not bound
  std::optional<Identity> identity;       // switch to it (the agent is root)
  std::vector<std::string> cgroup_procs;  // the job's cgroups' cgroup.procs files (v2, v1)
  int output = -1;                        // stdout and stderr go here (a pipe's write end)
  int error_output = -1;                  // stderr goes here instead, when set
};

struct Spawned {
  pid_t pid = -1;
  staging::Fd pidfd;
};

Result<Spawned, std::string> spawn_process(const SpawnSpec& spec);

}  // namespace sy::agent
