#pragma once
// What a job may use of its node besides its GPUs, and the cgroup controllers that hold it to
// that: its CPUs (cpuset), its memory (memory.max, or memory.limit_in_bytes on cgroup v1) and,
// on cgroup v1, which GPU device files it may open (devices.deny for the node's other GPUs).
// CUDA_VISIBLE_DEVICES only asks a program to keep to its GPUs; the device cgroup makes the
// others fail to open. cgroup v2 has no device files to write (it needs a BPF program), so there
// a job's GPUs are kept apart by CUDA_VISIBLE_DEVICES alone.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::agent {

struct JobLimits {
  std::set<int> cpus;                       // empty: not limited
  std::set<int> mems;                       // NUMA nodes of those CPUs; empty: the parent's
  std::int64_t memory_mib = 0;              // 0: not limited
  std::vector<std::string> denied_devices;  // device files of the node's GPUs it was not given
  bool any() const { return !cpus.empty() || memory_mib > 0 || !denied_devices.empty(); }
};

// Which CPUs a job gets: `count` of `usable`, first those on the NUMA nodes of its GPUs
// (`near`), then the others, always the least held (`held`: how many running jobs hold each)
// and the lowest numbered among equals. Other jobs' CPUs are shared only when no free one is
// left (a node whose topology claims more CPUs than it has). Pure.
std::set<int> choose_cpus(const std::set<int>& usable, const std::set<int>& near,
                          const std::map<int, int>& held, int count);

// The job's limits on this node: `cpus` and `memory_mib` from its order (0: none), its `gpus`.
JobLimits limits_for(const topo::NodeTopology* topology, const std::set<int>& usable_cpus,
                     const std::map<int, int>& held_cpus, const std::vector<int>& gpus, int cpus,
                     std::int64_t memory_mib);

// Where this node's controllers are, for the agent's own cgroups: on the unified tree (v2) when
// its children may use cpuset and memory, else each v1 hierarchy the agent may write in.
struct CgroupControllers {
  bool v2_cpuset = false, v2_memory = false;
  std::optional<std::filesystem::path> v1_cpuset, v1_memory, v1_devices;
  bool any() const { return v2_cpuset || v2_memory || v1_cpuset || v1_memory || v1_devices; }
  std::string describe() const;
};

// Reads /proc/self/cgroup and the mounts under /sys/fs/cgroup. `unified_parent`: where job
// cgroups are made on the unified tree (its cgroup.subtree_control is where v2 controllers must
// be enabled; this enables cpuset and memory there when the parent has no processes of its own).
CgroupControllers find_controllers(const std::optional<std::filesystem::path>& unified_parent);

// Writes the limits into a v2 job cgroup directory (files cpuset.cpus, cpuset.mems, memory.max)
// and into v1 job directories (cpuset.cpus/.mems, memory.limit_in_bytes, devices.deny); each
// `*_dir` may be empty when that controller is not used. Errors name the file.
Result<void, std::string> write_v2_limits(const std::filesystem::path& dir, const JobLimits& l,
                                          const CgroupControllers& c);
Result<void, std::string> write_v1_cpuset(const std::filesystem::path& dir, const JobLimits& l);
Result<void, std::string> write_v1_memory(const std::filesystem::path& dir, const JobLimits& l);
Result<void, std::string> write_v1_devices(const std::filesystem::path& dir, const JobLimits& l);

}  // namespace sy::agent
