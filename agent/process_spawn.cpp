#include "agent/process_spawn.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "agent/launch_plan.hpp"

namespace sy::agent {

Result<Identity, std::string> identity_of(const std::string& user) {
  std::vector<char> buf(16384);
  passwd pw{}, *found = nullptr;
  if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
    return fail("user " + user + " does not exist on this node");
  }
  Identity id{
      .uid = pw.pw_uid, .gid = pw.pw_gid, .groups = {}, .name = pw.pw_name, .home = pw.pw_dir};
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count));
    ::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count);
  }
  groups.resize(static_cast<std::size_t>(std::max(count, 0)));
  id.groups = std::move(groups);
  return id;
}

namespace {

struct ExecFailure {
  int stage = 0;  // what failed: see kStages
  int error = 0;
};
constexpr const char* kStages[] = {"cannot join the job's cgroup", "cannot bind to its CPUs",
                                   "cannot switch to its user", "cannot change to workdir",
                                   "cannot run"};

}  // namespace

Result<Spawned, std::string> spawn_process(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return fail(std::string("no command to run"));
  std::vector<std::string> argv = spec.argv, env = spec.env;
  std::vector<char*> argv_p, env_p;
  for (auto& a : argv)
    argv_p.push_back(a.data());
  argv_p.push_back(nullptr);
  for (auto& e : env)
    env_p.push_back(e.data());
  env_p.push_back(nullptr);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  bool bind = false;
  for (const int c : parse_cpu_list(spec.cpus)) {
    if (c < CPU_SETSIZE) {
      CPU_SET(c, &cpus);
      bind = true;
    }
  }
  const staging::Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  std::vector<staging::Fd> cgroups;
  for (const std::string& procs : spec.cgroup_procs) {
    cgroups.emplace_back(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    if (!cgroups.back().valid()) return fail(procs + ": " + staging::errno_message());
  }
  if (!null.valid()) return fail("/dev/null: " + staging::errno_message());
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail("pipe: " + staging::errno_message());
  const staging::Fd failure_read(pipe_fds[0]);
  staging::Fd failure_write(pipe_fds[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return fail("fork: " + staging::errno_message());
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ExecFailure f{0, 0};
    const auto fail_with = [&](int stage) {
      f.stage = stage;
      f.error = errno;
      (void)!::write(failure_write.get(), &f, sizeof f);
      ::_exit(127);
    };
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    for (const auto& cgroup : cgroups) {
      if (::write(cgroup.get(), "0", 1) != 1) fail_with(0);
    }
    if (bind && ::sched_setaffinity(0, sizeof cpus, &cpus) != 0) fail_with(1);
    if (spec.identity) {
      if (::setgroups(spec.identity->groups.size(), spec.identity->groups.data()) != 0 ||
          ::setgid(spec.identity->gid) != 0 || ::setuid(spec.identity->uid) != 0) {
        fail_with(2);
      }
    }
    ::dup2(null.get(), 0);
    if (spec.output >= 0) {
      ::dup2(spec.output, 1);
      ::dup2(spec.output, 2);
    }
    if (spec.error_output >= 0) ::dup2(spec.error_output, 2);
    sigset_t all;
    ::sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (const int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP})
      ::signal(s, SIG_DFL);
    if (::chdir(spec.workdir.c_str()) != 0) fail_with(3);
    ::execvpe(argv_p[0], argv_p.data(), env_p.data());
    fail_with(4);
  }
  failure_write = staging::Fd();
  ExecFailure f{};
  ssize_t n;
  do {
    n = ::read(failure_read.get(), &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof f)) {
    ::waitpid(pid, nullptr, 0);
    const std::string what = f.stage == 3   ? std::string(kStages[3]) + " " + spec.workdir
                             : f.stage == 4 ? std::string(kStages[4]) + " '" + spec.argv[0] + "'"
                                            : std::string(kStages[f.stage]);
    return fail(what + ": " + std::strerror(f.error));
  }
  Spawned s;
  s.pid = pid;
  s.pidfd = staging::Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!s.pidfd.valid()) {
    const std::string why = staging::errno_message();
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return fail("cannot watch the process: " + why);
  }
  return s;
}

}  // namespace sy::agent
