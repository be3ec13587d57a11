#include "agent/job_cgroup.hpp"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

#include "common/file_text.hpp"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace sy::agent {
namespace fs = std::filesystem;

std::optional<fs::path> find_own_cgroup() {
  auto text = read_file_text("/proc/self/cgroup");
  if (!text) return std::nullopt;
  std::istringstream lines(text.value());
  std::string line, own;
  while (std::getline(lines, line)) {
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  }
  if (own.empty()) return std::nullopt;
  for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs st {};
    if (::statfs(mount, &st) != 0 || st.f_type != CGROUP2_SUPER_MAGIC) continue;
    const fs::path dir = fs::path(mount) / fs::path(own).relative_path();
    if (::access(dir.c_str(), W_OK) == 0 && fs::exists(dir / "cgroup.procs")) return dir;
  }
  return std::nullopt;
}

int remove_stale_job_cgroups(const std::vector<fs::path>& dirs, const std::string& node) {
  const std::string prefix = "sy-" + node + "-";
  int removed = 0;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename();
      if (name.rfind(prefix, 0) != 0 || !e.is_directory()) continue;
      const std::string rest = name.substr(prefix.size());
      const auto dash = rest.find("-job-");
      if (dash == std::string::npos) continue;
      pid_t pid = 0;
      const auto [end, err] = std::from_chars(rest.data(), rest.data() + dash, pid);
      if (err != std::errc() || end != rest.data() + dash || pid <= 0) continue;
      if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
      if (::rmdir(e.path().c_str()) == 0) ++removed;
    }
  }
  return removed;
}

Result<JobCgroup, std::string> JobCgroup::create(const fs::path& parent, const std::string& name) {
  const fs::path dir = parent / name;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail("cannot create cgroup " + dir.string() + ": " + std::strerror(errno));
  }
  if (!fs::exists(dir / "cgroup.procs")) return fail(dir.string() + " is not a cgroup");
  return JobCgroup(dir);
}

JobCgroup JobCgroup::v1_only(const std::string& name) {
  JobCgroup c;
  c.name_ = name;
  return c;
}

Result<void, std::string> JobCgroup::limit(const JobLimits& limits,
                                           const CgroupControllers& controllers) {
  if (!path_.empty()) {
    if (auto r = write_v2_limits(path_, limits, controllers); !r) return r;
  }
  using Writer = Result<void, std::string> (*)(const fs::path&, const JobLimits&);
  const std::tuple<const std::optional<fs::path>*, bool, Writer> v1[] = {
      {&controllers.v1_cpuset, !limits.cpus.empty(), write_v1_cpuset},
      {&controllers.v1_memory, limits.memory_mib > 0, write_v1_memory},
      {&controllers.v1_devices, !limits.denied_devices.empty(), write_v1_devices}};
  for (const auto& [hierarchy, needed, write] : v1) {
    if (!*hierarchy || !needed) continue;
    const fs::path dir = **hierarchy / name_;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return fail("cannot create cgroup " + dir.string() + ": " + std::strerror(errno));
    }
    v1_dirs_.push_back(dir);
    if (auto r = write(dir, limits); !r) return r;
  }
  return {};
}

fs::path JobCgroup::path() const {
  if (!path_.empty() || v1_dirs_.empty()) return path_;
  return v1_dirs_.front();
}

std::vector<std::string> JobCgroup::procs_files() const {
  std::vector<std::string> out;
  if (!path_.empty()) out.push_back((path_ / "cgroup.procs").string());
  for (const auto& d : v1_dirs_)
    out.push_back((d / "cgroup.procs").string());
  return out;
}

std::vector<pid_t> JobCgroup::pids() const {
  std::vector<pid_t> out;
  const fs::path dir = path();
  if (dir.empty()) return out;
  std::ifstream in(dir / "cgroup.procs");
  pid_t pid = 0;
  while (in >> pid)
    out.push_back(pid);
  return out;
}

void JobCgroup::signal(int sig) const {
  if (path().empty()) return;
  if (sig == SIGKILL && !path_.empty()) {
    std::ofstream kill(path_ / "cgroup.kill");
    if (kill && (kill << "1").flush()) return;
  }
  for (const pid_t pid : pids())
    ::kill(pid, sig);
}

bool JobCgroup::remove() const {
  std::vector<fs::path> dirs = v1_dirs_;
  if (!path_.empty()) dirs.insert(dirs.begin(), path_);
  for (int i = 0; i < 100 && !dirs.empty(); ++i) {  // at most 5 s: a process in uninterruptible
    signal(SIGKILL);                                // sleep ends late
    std::erase_if(dirs,
                  [](const fs::path& d) { return ::rmdir(d.c_str()) == 0 || errno == ENOENT; });
    if (!dirs.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return dirs.empty();
}

}  // namespace sy::agent
