#include "agent/job_limits.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include "agent/launch_plan.hpp"
#include "common/file_text.hpp"

namespace sy::agent {
namespace fs = std::filesystem;

std::set<int> choose_cpus(const std::set<int>& usable, const std::set<int>& near,
                          const std::map<int, int>& held, int count) {
  std::vector<std::tuple<int, int, int>> order;  // (jobs holding it, far from the GPUs, cpu)
  for (const int c : usable) {
    const auto it = held.find(c);
    order.emplace_back(it == held.end() ? 0 : it->second, near.contains(c) ? 0 : 1, c);
  }
  std::sort(order.begin(), order.end());
  std::set<int> out;
  for (const auto& [holders, far, cpu] : order) {
    if (static_cast<int>(out.size()) >= count) break;
    out.insert(cpu);
  }
  return out;
}

JobLimits limits_for(const topo::NodeTopology* topology, const std::set<int>& usable_cpus,
                     const std::map<int, int>& held_cpus, const std::vector<int>& gpus, int cpus,
                     std::int64_t memory_mib) {
  JobLimits l;
  l.memory_mib = std::max<std::int64_t>(memory_mib, 0);
  std::set<int> near;
  if (topology) {
    near = numa_cpus_of(*topology, gpus);
    for (const auto& g : topology->gpus) {
      if (!g.device.empty() && std::find(gpus.begin(), gpus.end(), g.index) == gpus.end()) {
        l.denied_devices.push_back(g.device);
      }
    }
  }
  if (cpus > 0) l.cpus = choose_cpus(usable_cpus, near, held_cpus, cpus);
  if (topology) {
    for (const auto& n : topology->numa_nodes) {
      for (const int c : parse_cpu_list(n.cpus)) {
        if (l.cpus.contains(c)) l.mems.insert(n.id);
      }
    }
  }
  return l;
}

namespace {

std::string first_line(const fs::path& file) {
  auto text = read_file_text(file.string());
  if (!text) return {};
  std::string line = text.value().substr(0, text.value().find('\n'));
  return line;
}

bool has_word(const std::string& words, const std::string& word) {
  std::istringstream in(words);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

// One write of `value` (cgroup files take one value or rule per write; `append` keeps the rules
// of earlier writes in a plain file too, as a test's stand-in directory has).
Result<void, std::string> write_file(const fs::path& file, const std::string& value,
                                     bool append = false) {
  std::ofstream out(file, append ? std::ios::app : std::ios::out);
  if (!out || !(out << value).flush()) {
    return fail("cannot write '" + value + "' to " + file.string() + ": " + std::strerror(errno));
  }
  return {};
}

// `wanted` within what the parent allows (cpuset.mems.effective on v2, cpuset.mems on v1); the
// parent's own list when none of `wanted` is there (a topology file may name NUMA nodes the
// machine does not have).
std::string mems_within(const std::set<int>& wanted, const fs::path& parent_file) {
  const std::set<int> parent = parse_cpu_list(first_line(parent_file));
  std::set<int> both;
  for (const int m : wanted) {
    if (parent.contains(m)) both.insert(m);
  }
  return cpu_list_text(both.empty() ? parent : both);
}

}  // namespace

std::string CgroupControllers::describe() const {
  std::string out;
  const auto add = [&](bool on, const char* what) {
    if (on) out += (out.empty() ? "" : ", ") + std::string(what);
  };
  add(v2_cpuset, "cpuset (v2)");
  add(v2_memory, "memory (v2)");
  add(v1_cpuset.has_value(), "cpuset (v1)");
  add(v1_memory.has_value(), "memory (v1)");
  add(v1_devices.has_value(), "devices (v1)");
  return out.empty() ? "none" : out;
}

CgroupControllers find_controllers(const std::optional<fs::path>& unified_parent) {
  CgroupControllers c;
  if (unified_parent) {
    const fs::path& p = *unified_parent;
    const std::string available = first_line(p / "cgroup.controllers");
    const auto enabled = [&] { return first_line(p / "cgroup.subtree_control"); };
    bool want = false;
    for (const char* ctl : {"cpuset", "memory"}) {
      if (has_word(available, ctl) && !has_word(enabled(), ctl)) want = true;
    }
    if (want) {
      // A cgroup with processes of its own cannot give controllers to its children (the
      // "no internal processes" rule): the agent first moves itself into a leaf of its own.
      auto enable = [&] {
        for (const char* ctl : {"cpuset", "memory"}) {
          if (has_word(available, ctl))
            (void)write_file(p / "cgroup.subtree_control", "+" + std::string(ctl));
        }
      };
      enable();
      if (!has_word(enabled(), "memory") && !has_word(enabled(), "cpuset")) {
        const fs::path leaf = p / ("sy-agent-" + std::to_string(::getpid()));
        if (::mkdir(leaf.c_str(), 0755) == 0 || errno == EEXIST) {
          if (write_file(leaf / "cgroup.procs", "0")) enable();
        }
      }
    }
    c.v2_cpuset = has_word(enabled(), "cpuset");
    c.v2_memory = has_word(enabled(), "memory");
  }
  // cgroup v1: "N:CONTROLLERS:/PATH" lines, each hierarchy mounted at /sys/fs/cgroup/CONTROLLERS.
  auto own = read_file_text("/proc/self/cgroup");
  if (!own) return c;
  std::istringstream lines(own.value());
  std::string line;
  while (std::getline(lines, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    if (controllers.empty()) continue;  // the unified tree
    const fs::path dir =
        fs::path("/sys/fs/cgroup") / controllers / fs::path(line.substr(b + 1)).relative_path();
    if (!fs::exists(dir / "cgroup.procs") || ::access(dir.c_str(), W_OK) != 0) continue;
    std::string list = controllers;
    std::replace(list.begin(), list.end(), ',', ' ');
    if (has_word(list, "cpuset") && !c.v2_cpuset) c.v1_cpuset = dir;
    if (has_word(list, "memory") && !c.v2_memory) c.v1_memory = dir;
    if (has_word(list, "devices")) c.v1_devices = dir;
  }
  return c;
}

Result<void, std::string> write_v2_limits(const fs::path& dir, const JobLimits& l,
                                          const CgroupControllers& c) {
  if (c.v2_cpuset && !l.cpus.empty()) {
    if (auto r = write_file(dir / "cpuset.cpus", cpu_list_text(l.cpus)); !r) return r;
    if (!l.mems.empty()) {
      const std::string mems = mems_within(l.mems, dir.parent_path() / "cpuset.mems.effective");
      if (!mems.empty()) {
        if (auto r = write_file(dir / "cpuset.mems", mems); !r) return r;
      }
    }
  }
  if (c.v2_memory && l.memory_mib > 0) {
    if (auto r = write_file(dir / "memory.max", std::to_string(l.memory_mib << 20)); !r) return r;
  }
  return {};
}

Result<void, std::string> write_v1_cpuset(const fs::path& dir, const JobLimits& l) {
  // A v1 cpuset takes no task until both its memory nodes and its CPUs are set.
  const std::string mems = mems_within(l.mems, dir.parent_path() / "cpuset.mems");
  if (auto r = write_file(dir / "cpuset.mems", mems); !r) return r;
  return write_file(dir / "cpuset.cpus", cpu_list_text(l.cpus));
}

Result<void, std::string> write_v1_memory(const fs::path& dir, const JobLimits& l) {
  const std::string bytes = std::to_string(l.memory_mib << 20);
  if (auto r = write_file(dir / "memory.limit_in_bytes", bytes); !r) return r;
  // Memory and swap together, where the kernel accounts swap: the job cannot swap past it.
  if (fs::exists(dir / "memory.memsw.limit_in_bytes")) {
    (void)write_file(dir / "memory.memsw.limit_in_bytes", bytes);
  }
  return {};
}

Result<void, std::string> write_v1_devices(const fs::path& dir, const JobLimits& l) {
  for (const std::string& device : l.denied_devices) {
    struct stat st {};
    if (::stat(device.c_str(), &st) != 0) continue;  // not on this node: nothing to open
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
    const std::string rule = std::string(S_ISCHR(st.st_mode) ? "c " : "b ") +
                             std::to_string(major(st.st_rdev)) + ":" +
                             std::to_string(minor(st.st_rdev)) + " rwm";
    if (auto r = write_file(dir / "devices.deny", rule + "\n", true); !r) return r;
  }
  return {};
}

}  // namespace sy::agent
