#include "agent/job_cgroup.hpp"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

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

Result<JobCgroup, std::string> JobCgroup::create(const fs::path& parent, const std::string& name) {
  const fs::path dir = parent / name;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail("cannot create cgroup " + dir.string() + ": " + std::strerror(errno));
  }
  if (!fs::exists(dir / "cgroup.procs")) return fail(dir.string() + " is not a cgroup");
  return JobCgroup(dir);
}

std::vector<pid_t> JobCgroup::pids() const {
  std::vector<pid_t> out;
  if (path_.empty()) return out;
  std::ifstream in(path_ / "cgroup.procs");
  pid_t pid = 0;
  while (in >> pid)
    out.push_back(pid);
  return out;
}

void JobCgroup::signal(int sig) const {
  if (path_.empty()) return;
  if (sig == SIGKILL) {
    std::ofstream kill(path_ / "cgroup.kill");
    if (kill && (kill << "1").flush()) return;
  }
  for (const pid_t pid : pids())
    ::kill(pid, sig);
}

bool JobCgroup::remove() const {
  if (path_.empty()) return true;
  for (int i = 0; i < 100; ++i) {  // at most 5 s: a process in uninterruptible sleep ends late
    signal(SIGKILL);
    if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace sy::agent
