#include "agent/job_supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "agent/stage_out.hpp"
#include "agent/staging/beneath.hpp"
#include "common/log.hpp"

extern char** environ;

namespace sy::agent {
namespace fs = std::filesystem;

std::string dataset_variable(const std::string& dataset) {
  std::string v = "SY_DATASET_";
  for (const char c : dataset) {
    v += std::isalnum(static_cast<unsigned char>(c))
             ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
             : '_';
  }
  return v;
}

struct JobSupervisor::Job {
  std::int64_t id = 0;
  pid_t pid = -1;
  staging::Fd pidfd, wake;  // wake: an eventfd written to ask for a stop
  std::mutex mutex;
  protocol::JobReport report;  // guarded by mutex
  std::string stop_reason;     // guarded by mutex
  std::filesystem::path workdir;
  std::vector<Output> outputs;
  std::jthread watcher;  // last: joined first
};

namespace {

std::string holder_of(std::int64_t job) {
  return "job-" + std::to_string(job);
}

// What a child writes to its parent through a close-on-exec pipe when it cannot exec.
struct ExecFailure {
  int stage = 0;  // 0: chdir, 1: exec
  int error = 0;
};

std::vector<std::string> job_environment(const protocol::LaunchOrder& order,
                                         const fs::path& datasets_dir,
                                         const staging::Tier0Cache& cache) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : order.env)
    vars[k] = v;
  vars["SY_JOB_ID"] = std::to_string(order.job);
  std::string gpus;
  for (const int g : order.gpus)
    gpus += (gpus.empty() ? "" : ",") + std::to_string(g);
  vars["CUDA_VISIBLE_DEVICES"] = gpus;
  if (!order.datasets.empty()) vars["SY_DATASETS_DIR"] = datasets_dir.string();
  for (const auto& d : order.datasets)
    vars[dataset_variable(d.name)] = cache.path_of(d.name, d.version).string();
  std::vector<std::string> out;
  for (const auto& [k, v] : vars)
    out.push_back(k + "=" + v);
  return out;
}

}  // namespace

JobSupervisor::JobSupervisor(staging::Tier0Cache& cache, fs::path spool, Send send,
                             std::chrono::milliseconds grace, StageOutOptions stage_out)
    : cache_(cache),
      spool_(std::move(spool)),
      send_(std::move(send)),
      grace_(grace),
      stage_out_(stage_out) {}

JobSupervisor::~JobSupervisor() {
  std::map<std::int64_t, std::shared_ptr<Job>> jobs;
  {
    const std::scoped_lock lock(mutex_);
    jobs = jobs_;
  }
  for (const auto& [id, job] : jobs)
    stop(id, "the node's agent stopped");
  const std::scoped_lock lock(mutex_);
  jobs_.clear();  // joins the watchers
}

void JobSupervisor::report(const protocol::JobReport& r) {
  send_(protocol::job_report_message(r));
}

std::vector<protocol::JobReport> JobSupervisor::reports() const {
  const std::scoped_lock lock(mutex_);
  std::vector<protocol::JobReport> out;
  for (const auto& [id, job] : jobs_) {
    const std::scoped_lock job_lock(job->mutex);
    out.push_back(job->report);
  }
  return out;
}

void JobSupervisor::launch(const protocol::LaunchOrder& order) {
  const std::scoped_lock lock(mutex_);
  if (const auto it = jobs_.find(order.job); it != jobs_.end()) {
    const std::scoped_lock job_lock(it->second->mutex);
    return report(it->second->report);
  }
  const std::string holder = holder_of(order.job);
  const auto refuse = [&](const std::string& why) {
    cache_.unpin_all(holder);
    SY_LOG(warn, "jobs") << "job " << order.job << " not started: " << why;
    report(protocol::job_refused(order.job, why));
  };
  for (const auto& d : order.datasets) {
    if (!cache_.pin(holder, d.name, d.version)) {
      return refuse("dataset " + d.name + "@" + d.version +
                    " is not in this node's Tier-0 cache (evicted since it was staged?)");
    }
  }
  const fs::path dir = spool_ / std::to_string(order.job);
  const fs::path datasets_dir = dir / "datasets";
  std::error_code ec;
  fs::remove_all(datasets_dir, ec);  // left by an agent that ran it before a restart
  fs::create_directories(datasets_dir, ec);
  if (ec) return refuse("cannot create " + datasets_dir.string() + ": " + ec.message());
  for (const auto& d : order.datasets) {
    fs::create_directory_symlink(cache_.path_of(d.name, d.version), datasets_dir / d.name, ec);
    if (ec) return refuse("cannot link " + (datasets_dir / d.name).string() + ": " + ec.message());
  }
  std::vector<std::string> argv = order.command;
  if (!order.script.empty()) {
    const fs::path script = dir / "script";
    {
      std::ofstream out(script, std::ios::trunc);
      out << order.script;
      if (!out.flush()) return refuse("cannot write " + script.string());
    }
    fs::permissions(script, fs::perms::owner_all, ec);
    argv = {script.string()};
  }
  const std::string workdir = order.workdir.empty() ? dir.string() : order.workdir;
  std::vector<std::string> env = job_environment(order, datasets_dir, cache_);
  std::vector<char*> argv_p, env_p;
  for (auto& a : argv)
    argv_p.push_back(a.data());
  argv_p.push_back(nullptr);
  for (auto& e : env)
    env_p.push_back(e.data());
  env_p.push_back(nullptr);

  const std::string log_path = (dir / "output.log").string();
  const staging::Fd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  const staging::Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!log.valid() || !null.valid())
    return refuse("cannot open " + log_path + ": " + staging::errno_message());
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return refuse("pipe: " + staging::errno_message());
  const staging::Fd failure_read(pipe_fds[0]);
  staging::Fd failure_write(pipe_fds[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return refuse("fork: " + staging::errno_message());
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null.get(), 0);
    ::dup2(log.get(), 1);
    ::dup2(log.get(), 2);
    sigset_t all;
    ::sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (const int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP})
      ::signal(s, SIG_DFL);
    ExecFailure f{0, 0};
    if (::chdir(workdir.c_str()) == 0) {
      ::execvpe(argv_p[0], argv_p.data(), env_p.data());
      f.stage = 1;
    }
    f.error = errno;
    (void)!::write(failure_write.get(), &f, sizeof f);
    ::_exit(127);
  }
  failure_write = staging::Fd();
  ExecFailure f{};
  ssize_t n;
  do {
    n = ::read(failure_read.get(), &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof f)) {
    ::waitpid(pid, nullptr, 0);
    return refuse(f.stage == 0
                      ? "cannot change to workdir " + workdir + ": " + std::strerror(f.error)
                      : "cannot run '" + argv[0] + "': " + std::strerror(f.error));
  }
  auto job = std::make_shared<Job>();
  job->id = order.job;
  job->pid = pid;
  job->pidfd = staging::Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  job->wake = staging::Fd(::eventfd(0, EFD_CLOEXEC));
  job->report = {.job = order.job,
                 .state = "running",
                 .exit_code = 0,
                 .signal = 0,
                 .message = "",
                 .outputs_error = ""};
  job->workdir = workdir;
  job->outputs = order.outputs;
  if (!job->pidfd.valid() || !job->wake.valid()) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return refuse("cannot watch the job's process: " + staging::errno_message());
  }
  SY_LOG(info, "jobs") << "job " << order.job << " started: pid " << pid << ", " << argv[0] << ", "
                       << order.gpus.size() << " GPUs, output " << log_path;
  jobs_[order.job] = job;
  report(job->report);
  // The thread must not own the job: the last owner destroys the job, which joins its thread.
  job->watcher = std::jthread([this, raw = job.get()] { watch(*raw); });
}

void JobSupervisor::stop(std::int64_t id, const std::string& reason) {
  std::shared_ptr<Job> job;
  {
    const std::scoped_lock lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    job = it->second;
  }
  {
    const std::scoped_lock job_lock(job->mutex);
    if (job->report.state != "running") return;
    if (job->stop_reason.empty()) job->stop_reason = reason;
  }
  const std::uint64_t one = 1;
  (void)!::write(job->wake.get(), &one, sizeof one);
}

void JobSupervisor::acknowledge(std::int64_t id) {
  std::shared_ptr<Job> job;
  {
    const std::scoped_lock lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    {
      const std::scoped_lock job_lock(it->second->mutex);
      if (it->second->report.state == "running") return;
    }
    job = std::move(it->second);
    jobs_.erase(it);
  }
  job.reset();  // joins its watcher, which has ended
}

void JobSupervisor::watch(Job& job_ref) {
  Job* const job = &job_ref;
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> kill_at;
  int status = 0;
  while (true) {
    pollfd fds[2] = {{job->pidfd.get(), POLLIN, 0}, {job->wake.get(), POLLIN, 0}};
    int timeout = -1;
    if (kill_at) {
      timeout = static_cast<int>(std::max<std::int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(*kill_at - Clock::now()).count(),
          0));
    }
    const int ready = ::poll(fds, 2, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (fds[0].revents & POLLIN) {
      ::waitpid(job->pid, &status, 0);
      break;
    }
    if (fds[1].revents & POLLIN) {
      std::uint64_t count = 0;
      (void)!::read(job->wake.get(), &count, sizeof count);
      if (!kill_at) {
        ::kill(-job->pid, SIGTERM);
        kill_at = Clock::now() + grace_;
      }
    } else if (kill_at && Clock::now() >= *kill_at) {
      ::kill(-job->pid, SIGKILL);
      kill_at = Clock::now() + std::chrono::hours(24);
    }
  }
  ::kill(-job->pid, SIGKILL);  // what the job left running in its group ends with it
  cache_.unpin_all(holder_of(job->id));
  std::string outputs_error;
  if (!job->outputs.empty()) {
    outputs_error = stage_out(job->workdir, job->outputs, stage_out_, [&](const std::string& what) {
      protocol::JobReport progress;
      {
        const std::scoped_lock job_lock(job->mutex);
        job->report.state = "staging_out";
        job->report.message = what;
        progress = job->report;
      }
      report(progress);
    });
  }
  protocol::JobReport ended;
  {
    const std::scoped_lock job_lock(job->mutex);
    job->report.outputs_error = outputs_error;
    job->report.state = "ended";
    job->report.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    job->report.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    job->report.message = job->stop_reason;
    ended = job->report;
  }
  SY_LOG(info, "jobs") << "job " << job->id << " ended: "
                       << (ended.signal ? "signal " + std::to_string(ended.signal)
                                        : "exit " + std::to_string(ended.exit_code))
                       << (outputs_error.empty() ? "" : "; stage-out failed: " + outputs_error);
  report(ended);
}

}  // namespace sy::agent
