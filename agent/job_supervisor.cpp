#include "agent/job_supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>

#include "agent/job_cgroup.hpp"
#include "agent/labelled_lines.hpp"
#include "agent/launch_plan.hpp"
#include "agent/log_shipper.hpp"
#include "agent/process_spawn.hpp"
#include "agent/stage_out.hpp"
#include "agent/staging/beneath.hpp"
#include "common/dataset/dataset_name.hpp"
#include "common/log.hpp"
#include "common/utf8.hpp"

extern char** environ;

namespace sy::agent {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct JobSupervisor::Proc {
  std::string label;
  int rank = -1;
  std::string request;  // an exec order's: its end is reported to the node that asked
  bool stream = false;  // an exec whose output goes back to the asker (srun), not to the log
  bool reported = false;
  pid_t pid = -1;
  staging::Fd pidfd, output, error_output;
  LabelledLines lines{"", false};
  bool exited = false;
  int status = 0;
};

struct JobSupervisor::Job {
  std::int64_t id = 0;
  protocol::LaunchOrder order;
  fs::path dir, workdir;
  std::string token;
  std::optional<JobCgroup> cgroup;
  std::set<int> cpus;  // the CPUs it was given on this node (empty: not limited)
  std::optional<Identity> identity;
  std::map<std::string, std::string> env;  // every process's, before its own variables
  staging::Fd log, wake;  // wake: an eventfd written when there is news for the watcher
  std::unique_ptr<LogShipper> shipper;
  std::mutex mutex;
  std::vector<std::unique_ptr<Proc>> added;  // guarded: exec'd processes for the watcher
  protocol::JobReport report;                // guarded
  std::string stop_reason;                   // guarded
  bool stop_requested = false;               // guarded
  std::jthread watcher;                      // last: joined first
};

namespace {

std::string holder_of(std::int64_t job) {
  return "job-" + std::to_string(job);
}

std::string random_token() {
  unsigned char bytes[16] = {};
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::set<int> own_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::set<int> out;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) out.insert(c);
  }
  return out;
}

// A shell command line as ssh would run it, less Open MPI's --daemonize: a daemon that detaches
// would leave the job's process group (the cgroup still holds it), and it is watched here.
std::string without_daemonize(std::string command) {
  for (auto at = command.find(" --daemonize"); at != std::string::npos;
       at = command.find(" --daemonize", at)) {
    const auto end = at + 12;
    if (end == command.size() || command[end] == ' ') {
      command.erase(at, 12);
    } else {
      at = end;
    }
  }
  return command;
}

int exit_code_of(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

bool failed(int status) {
  return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

}  // namespace

JobSupervisor::JobSupervisor(staging::Tier0Cache& cache, fs::path spool, Send send,
                             std::chrono::milliseconds grace, StageOutOptions stage_out,
                             LaunchOptions launch)
    : cache_(cache),
      spool_(std::move(spool)),
      send_(std::move(send)),
      grace_(grace),
      stage_out_(stage_out),
      launch_(std::move(launch)) {
  std::error_code ec;
  if (launch_.agent_path.empty()) launch_.agent_path = fs::read_symlink("/proc/self/exe", ec);
  if (launch_.hostname.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    launch_.hostname = host;
  }
}

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

bool JobSupervisor::job_token_matches(std::int64_t id, const std::string& token) const {
  const std::scoped_lock lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end() || token.size() != it->second->token.size()) return false;
  unsigned diff = 0;  // the same time whatever matches
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned>(token[i] ^ it->second->token[i]);
  const std::scoped_lock job_lock(it->second->mutex);
  return diff == 0 && it->second->report.state == "running";
}

void JobSupervisor::launch(const protocol::LaunchOrder& order) {
  const std::scoped_lock lock(mutex_);
  if (const auto it = jobs_.find(order.job); it != jobs_.end()) {
    const std::scoped_lock job_lock(it->second->mutex);
    return report(it->second->report);
  }
  const std::string holder = holder_of(order.job);
  std::optional<JobCgroup> cgroup;
  const auto refuse = [&](const std::string& why) {
    cache_.unpin_all(holder);
    if (cgroup) cgroup->remove();
    SY_LOG(warn, "jobs") << "job " << order.job << " not started: " << why;
    report(protocol::job_refused(order.job, why));
  };
  auto job = std::make_shared<Job>();
  job->id = order.job;
  job->order = order;
  // Who it runs as: the submitting user when the agent may switch to it.
  const bool agent_is_root = ::geteuid() == 0;
  if (agent_is_root && !order.user.empty() && order.user != "root") {
    auto identity = identity_of(order.user);
    if (!identity) return refuse(identity.error());
    job->identity = std::move(identity).value();
  }
  for (const auto& d : order.datasets) {
    if (!cache_.pin(holder, d.name, d.version)) {
      return refuse("dataset " + d.name + "@" + d.version +
                    " is not in this node's Tier-0 cache (evicted since it was staged?)");
    }
  }
  job->dir = spool_ / std::to_string(order.job);
  const fs::path datasets_dir = job->dir / "datasets";
  std::error_code ec;
  fs::remove_all(datasets_dir, ec);  // left by an agent that ran it before a restart
  fs::create_directories(datasets_dir, ec);
  if (ec) return refuse("cannot create " + datasets_dir.string() + ": " + ec.message());
  for (const auto& d : order.datasets) {
    fs::create_directory_symlink(cache_.path_of(d.name, d.version), datasets_dir / d.name, ec);
    if (ec) return refuse("cannot link " + (datasets_dir / d.name).string() + ": " + ec.message());
  }
  if (job->identity && ::chown(job->dir.c_str(), job->identity->uid, job->identity->gid) != 0) {
    return refuse("cannot give " + job->dir.string() + " to " + order.user + ": " +
                  staging::errno_message());
  }
  NodeContext ctx;
  ctx.topology = launch_.topology;
  ctx.usable_cpus = own_cpus();
  // Its CPUs: the least held of those near its GPUs (agent/job_limits.hpp).
  std::map<int, int> held;
  for (const auto& [id, other] : jobs_) {
    for (const int c : other->cpus)
      ++held[c];
  }
  const JobLimits limits =
      limits_for(launch_.topology, ctx.usable_cpus, held, order.gpus, order.cpus, order.memory_mib);
  job->cpus = limits.cpus;
  ctx.job_cpus = limits.cpus;
  ctx.agent_path = launch_.agent_path;
  ctx.mpirun = launch_.mpirun;
  ctx.hostname = launch_.hostname;
  ctx.hostfile = (job->dir / "hostfile").string();
  ctx.job_dir = job->dir.string();
  ctx.workdir = order.workdir.empty() ? job->dir.string() : order.workdir;
  ctx.as_root = agent_is_root && !job->identity;
  job->workdir = ctx.workdir;
  if (!order.script.empty()) {
    const fs::path script = job->dir / "script";
    {
      std::ofstream out(script, std::ios::trunc);
      out << order.script;
      if (!out.flush()) return refuse("cannot write " + script.string());
    }
    fs::permissions(script, fs::perms::owner_all, ec);
    if (job->identity) (void)!::chown(script.c_str(), job->identity->uid, job->identity->gid);
    ctx.script = script.string();
  }
  if (order.launcher == "mpi" && order.leader) {
    std::ofstream out(ctx.hostfile, std::ios::trunc);
    out << mpi_hostfile(order, ctx.hostname);
    if (!out.flush()) return refuse("cannot write " + ctx.hostfile);
  }
  // The environment: the agent's, the job's, then what Switchyard tells it.
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) job->env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : order.env)
    job->env[k] = v;
  job->env["SY_JOB_ID"] = std::to_string(order.job);
  job->env["SY_NODE_NAME"] = launch_.node;
  if (!order.datasets.empty()) job->env["SY_DATASETS_DIR"] = datasets_dir.string();
  for (const auto& d : order.datasets)
    job->env[dataset::dataset_variable(d.name)] = cache_.path_of(d.name, d.version).string();
  for (const auto& [k, v] : node_environment(order, ctx))
    job->env[k] = v;
  if (order.slurm) {
    // srun, scontrol and sy-agent (what srun runs on each node) first on the job's PATH.
    const fs::path bin = job->dir / "bin";
    fs::create_directories(bin, ec);
    for (const char* name : {"srun", "scontrol", "sy-agent"}) {
      fs::remove(bin / name, ec);
      fs::create_symlink(launch_.agent_path, bin / name, ec);
      if (ec) return refuse("cannot link " + (bin / name).string() + ": " + ec.message());
    }
    job->env["SY_SLURM_BIN"] = bin.string();
    // srun numbers its steps from 0 in this file (one per job; the job's user writes it).
    const fs::path steps = job->dir / "srun-steps";
    std::ofstream(steps, std::ios::trunc).flush();
    if (job->identity) (void)!::chown(steps.c_str(), job->identity->uid, job->identity->gid);
    job->env["SY_SLURM_STEPS"] = steps.string();
    const auto path = job->env.find("PATH");
    job->env["PATH"] =
        bin.string() + ":" +
        (path == job->env.end() ? std::string("/usr/local/bin:/usr/bin:/bin") : path->second);
  }
  job->token = random_token();
  job->env["SY_JOB_TOKEN"] = job->token;
  if (!launch_.socket.empty()) job->env["SY_AGENT_SOCKET"] = launch_.socket;
  if (job->identity) {
    job->env["USER"] = job->env["LOGNAME"] = job->identity->name;
    job->env["HOME"] = job->identity->home;
  }

  const std::string log_path = (job->dir / "output.log").string();
  job->log = staging::Fd(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  job->wake = staging::Fd(::eventfd(0, EFD_CLOEXEC));
  if (!job->log.valid() || !job->wake.valid()) {
    return refuse("cannot open " + log_path + ": " + staging::errno_message());
  }
  // The agent's pid too: agents sharing a host (a test, a fake cluster) may have the same node
  // name and job ids.
  const std::string cgroup_name =
      "sy-" + launch_.node + "-" + std::to_string(::getpid()) + "-job-" + std::to_string(order.job);
  if (launch_.cgroup_parent) {
    auto made = JobCgroup::create(*launch_.cgroup_parent, cgroup_name);
    if (made) {
      cgroup = std::move(made).value();
    } else {
      SY_LOG(warn, "jobs") << "job " << order.job << ": " << made.error()
                           << "; using process groups";
    }
  }
  if (limits.any()) {
    if (!cgroup && launch_.controllers.any()) cgroup = JobCgroup::v1_only(cgroup_name);
    if (cgroup) {
      // A limit that cannot be set is not quietly dropped: the job does not start.
      if (auto limited = cgroup->limit(limits, launch_.controllers); !limited) {
        return refuse("cannot hold it to its CPUs, memory and GPUs: " + limited.error());
      }
    }
    if (!launch_.controllers.any()) {
      SY_LOG(warn, "jobs") << "job " << order.job
                           << ": no cgroup controllers here: its memory and GPU devices are not "
                              "limited, its processes only bound to its CPUs";
    }
  }
  job->cgroup = cgroup;
  std::vector<std::unique_ptr<Proc>> procs;
  const auto kill_started = [&] {
    for (const auto& p : procs) {
      ::kill(-p->pid, SIGKILL);
      ::waitpid(p->pid, nullptr, 0);
    }
  };
  for (const ProcessPlan& plan : plan_processes(order, ctx)) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      kill_started();
      return refuse("pipe: " + staging::errno_message());
    }
    staging::Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    auto env = job->env;
    for (const auto& [k, v] : plan.env)
      env[k] = v;
    SpawnSpec spec{.argv = plan.argv,
                   .env = {},
                   .workdir = ctx.workdir,
                   .cpus = plan.cpus,
                   .identity = job->identity,
                   .cgroup_procs = cgroup ? cgroup->procs_files() : std::vector<std::string>{},
                   .output = write_end.get()};
    for (const auto& [k, v] : env)
      spec.env.push_back(k + "=" + v);
    auto spawned = spawn_process(spec);
    if (!spawned) {
      kill_started();
      return refuse(spawned.error());
    }
    auto p = std::make_unique<Proc>();
    p->label = plan.label;
    p->rank = plan.rank;
    p->pid = spawned->pid;
    p->pidfd = std::move(spawned->pidfd);
    p->output = std::move(read_end);
    p->lines = LabelledLines(plan.label, plan.mpi_tags);
    procs.push_back(std::move(p));
  }
  job->report = {.job = order.job,
                 .state = "running",
                 .exit_code = 0,
                 .signal = 0,
                 .message = "",
                 .outputs_error = "",
                 .rank = -1};
  job->shipper = std::make_unique<LogShipper>(order.job, log_path, send_);
  SY_LOG(info, "jobs") << "job " << order.job << " started (" << order.launcher
                       << (order.leader ? ", first node" : "") << "): " << procs.size()
                       << " processes, " << order.gpus.size() << " GPUs, output " << log_path
                       << (cgroup ? ", cgroup " + cgroup->path().string() : "")
                       << (limits.cpus.empty() ? "" : ", CPUs " + cpu_list_text(limits.cpus))
                       << (limits.memory_mib > 0
                               ? ", memory " + std::to_string(limits.memory_mib) + " MiB"
                               : "");
  {
    const std::scoped_lock job_lock(job->mutex);
    job->added = std::move(procs);
  }
  jobs_[order.job] = job;
  report(job->report);
  // The thread must not own the job: the last owner destroys the job, which joins its thread.
  job->watcher = std::jthread([this, raw = job.get()] { watch(*raw); });
}

int JobSupervisor::forward_output(const Job& job, const Proc& p, const staging::Fd& fd) {
  char buf[65536];
  ssize_t n = 0;
  do {
    n = ::read(fd.get(), buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return 0;
  if (n < 0) return errno == EAGAIN ? -1 : 0;
  send_(protocol::exec_report_message(
      {.request = p.request,
       .job = job.id,
       .state = &fd == &p.output ? "stdout" : "stderr",
       .exit_code = 0,
       .message = utf8_text(std::string_view(buf, static_cast<std::size_t>(n)))}));
  return 1;
}

void JobSupervisor::exec(const protocol::ExecOrder& order) {
  const auto refuse = [&](const std::string& why) {
    SY_LOG(warn, "jobs") << "exec " << order.request << " for job " << order.job << ": " << why;
    send_(protocol::exec_report_message({.request = order.request,
                                         .job = order.job,
                                         .state = "failed",
                                         .exit_code = 0,
                                         .message = why}));
  };
  std::shared_ptr<Job> job;
  {
    const std::scoped_lock lock(mutex_);
    const auto it = jobs_.find(order.job);
    if (it != jobs_.end()) job = it->second;
  }
  if (!job) return refuse("job " + std::to_string(order.job) + " does not run on this node");
  {
    const std::scoped_lock job_lock(job->mutex);
    if (job->report.state != "running" || job->stop_requested) {
      return refuse("job " + std::to_string(order.job) + " is ending on this node");
    }
  }
  int pipe_fds[2], error_fds[2] = {-1, -1};
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return refuse("pipe: " + staging::errno_message());
  staging::Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  staging::Fd error_read, error_write;
  if (order.stream) {
    if (::pipe2(error_fds, O_CLOEXEC) != 0) return refuse("pipe: " + staging::errno_message());
    error_read = staging::Fd(error_fds[0]);
    error_write = staging::Fd(error_fds[1]);
    // Drained without blocking once the process has ended (see watch()).
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(error_read.get(), F_SETFL, O_NONBLOCK);
  }
  SpawnSpec spec{
      .argv = {"/bin/sh", "-c", without_daemonize(order.command)},
      .env = {},
      .workdir = job->workdir.string(),
      .cpus = "",
      .identity = job->identity,
      .cgroup_procs = job->cgroup ? job->cgroup->procs_files() : std::vector<std::string>{},
      .output = write_end.get(),
      .error_output = error_write.valid() ? error_write.get() : -1};
  for (const auto& [k, v] : job->env)
    spec.env.push_back(k + "=" + v);
  auto spawned = spawn_process(spec);
  if (!spawned) return refuse(spawned.error());
  auto p = std::make_unique<Proc>();
  p->label = "exec";
  p->request = order.request;
  p->stream = order.stream;
  p->error_output = std::move(error_read);
  p->pid = spawned->pid;
  p->pidfd = std::move(spawned->pidfd);
  p->output = std::move(read_end);
  p->lines = LabelledLines("exec", false);
  SY_LOG(info, "jobs") << "job " << order.job << ": exec for " << order.node << " started, pid "
                       << p->pid;
  {
    const std::scoped_lock job_lock(job->mutex);
    job->added.push_back(std::move(p));
  }
  send_(protocol::exec_report_message({.request = order.request,
                                       .job = order.job,
                                       .state = "started",
                                       .exit_code = 0,
                                       .message = ""}));
  const std::uint64_t one = 1;
  (void)!::write(job->wake.get(), &one, sizeof one);
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
    job->stop_requested = true;
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
      if (it->second->report.state != "ended" && it->second->report.state != "refused") return;
    }
    job = std::move(it->second);
    jobs_.erase(it);
  }
  job.reset();  // joins its watcher, which has ended
}

void JobSupervisor::output_acknowledged(std::int64_t id, std::int64_t end) {
  std::shared_ptr<Job> job;
  {
    const std::scoped_lock lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    job = it->second;
  }
  job->shipper->acknowledged(end);
}

void JobSupervisor::reconnected() {
  std::map<std::int64_t, std::shared_ptr<Job>> jobs;
  {
    const std::scoped_lock lock(mutex_);
    jobs = jobs_;
  }
  for (const auto& [id, job] : jobs) {
    job->shipper->rewind();
    protocol::JobReport r;
    {
      const std::scoped_lock job_lock(job->mutex);
      r = job->report;
    }
    if (r.state == "ended") report(r);
  }
}

void JobSupervisor::watch(Job& job_ref) {
  Job* const job = &job_ref;
  std::vector<std::unique_ptr<Proc>> procs;
  // Plain time points with flags: GCC's -O2 sees optionals of them as maybe-uninitialized.
  Clock::time_point kill_at{}, drain_until{};
  bool kill_pending = false;
  bool stopping = false, mains_ended = false;
  // The first rank that failed while nothing asked the job to stop: it ends the job.
  const Proc* first_failure = nullptr;
  const auto signal_all = [&](int sig) {
    if (job->cgroup) job->cgroup->signal(sig);
    for (const auto& p : procs) {
      if (!p->exited) ::kill(-p->pid, sig);
    }
  };
  const auto begin_stop = [&] {
    if (stopping) return;
    stopping = true;
    signal_all(SIGTERM);
    kill_at = Clock::now() + grace_;
    kill_pending = true;
  };
  while (true) {
    bool stop_requested = false;
    {
      const std::scoped_lock job_lock(job->mutex);
      for (auto& p : job->added)
        procs.push_back(std::move(p));
      job->added.clear();
      stop_requested = job->stop_requested;
    }
    if (stop_requested) begin_stop();
    // Ended here when every process that is not an exec has ended; an mpi job's other nodes,
    // which run only what mpirun asks, end when they are stopped.
    bool has_main = false, mains_alive = false, any_alive = false, outputs_open = false;
    for (const auto& p : procs) {
      has_main = has_main || p->request.empty();
      mains_alive = mains_alive || (p->request.empty() && !p->exited);
      any_alive = any_alive || !p->exited;
      outputs_open = outputs_open || p->output.valid() || p->error_output.valid();
    }
    const bool done_here = has_main ? !mains_alive : stopping;
    if (done_here && !mains_ended) {
      mains_ended = true;
      // What the job left running ends with it; then its output pipes drain, for a while.
      signal_all(SIGKILL);
      drain_until = Clock::now() + std::chrono::seconds(2);
    }
    if (mains_ended && !any_alive && (!outputs_open || Clock::now() >= drain_until)) break;

    std::vector<pollfd> fds{{job->wake.get(), POLLIN, 0}};
    // (process, what: 0 its pidfd, 1 its output, 2 its stderr when apart)
    std::vector<std::pair<Proc*, int>> who{{nullptr, 0}};
    for (const auto& p : procs) {
      if (!p->exited) {
        fds.push_back({p->pidfd.get(), POLLIN, 0});
        who.emplace_back(p.get(), 0);
      }
      if (p->output.valid()) {
        fds.push_back({p->output.get(), POLLIN, 0});
        who.emplace_back(p.get(), 1);
      }
      if (p->error_output.valid()) {
        fds.push_back({p->error_output.get(), POLLIN, 0});
        who.emplace_back(p.get(), 2);
      }
    }
    int timeout = -1;
    const auto until = [&](Clock::time_point t) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now());
      const int left = static_cast<int>(std::max<std::int64_t>(ms.count(), 0));
      timeout = timeout < 0 ? left : std::min(timeout, left);
    };
    if (kill_pending) until(kill_at);
    if (mains_ended) until(std::max(drain_until, Clock::now() + std::chrono::milliseconds(100)));
    const int ready = ::poll(fds.data(), fds.size(), timeout);
    if (ready < 0 && errno == EINTR) continue;
    bool wrote = false;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Proc* p = who[i].first;
      if (!p) {
        std::uint64_t count = 0;
        (void)!::read(job->wake.get(), &count, sizeof count);
        continue;
      }
      if (p->stream && who[i].second != 0) {
        // Until it ends; then what is left is drained below and the end reported after it.
        if (forward_output(*job, *p, who[i].second == 1 ? p->output : p->error_output) == 0) {
          (who[i].second == 1 ? p->output : p->error_output) = staging::Fd();
        }
        continue;
      }
      if (who[i].second != 0) {
        char buf[65536];
        const ssize_t n = ::read(p->output.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        const std::string lines =
            n > 0 ? p->lines.feed(std::string_view(buf, static_cast<std::size_t>(n)))
                  : p->lines.finish();
        if (!lines.empty()) {
          (void)!::write(job->log.get(), lines.data(), lines.size());
          wrote = true;
        }
        if (n <= 0) p->output = staging::Fd();
        continue;
      }
      if (::waitpid(p->pid, &p->status, WNOHANG) != p->pid) continue;
      p->exited = true;
      if (!p->request.empty()) {
        if (p->stream) {
          // Its output first, then its end: the asker stops listening at the end.
          while (p->output.valid() && forward_output(*job, *p, p->output) == 1) {
          }
          while (p->error_output.valid() && forward_output(*job, *p, p->error_output) == 1) {
          }
          p->output = staging::Fd();
          p->error_output = staging::Fd();
        }
        send_(protocol::exec_report_message({.request = p->request,
                                             .job = job->id,
                                             .state = "ended",
                                             .exit_code = exit_code_of(p->status),
                                             .message = ""}));
        continue;
      }
      if (failed(p->status) && !stopping && !first_failure) {
        first_failure = p;
        // The other ranks cannot finish without it.
        bool others = false;
        for (const auto& q : procs)
          others = others || (q->request.empty() && !q->exited);
        if (others) begin_stop();
      }
    }
    if (kill_pending && Clock::now() >= kill_at) {
      signal_all(SIGKILL);
      kill_pending = false;
    }
    if (wrote) job->shipper->ship();
  }
  finish(*job, procs, first_failure);
}

void JobSupervisor::finish(Job& job, const std::vector<std::unique_ptr<Proc>>& procs,
                           const Proc* first_failure) {
  if (job.cgroup && !job.cgroup->remove()) {
    SY_LOG(warn, "jobs") << "job " << job.id << ": cannot remove " << job.cgroup->path().string();
  }
  cache_.unpin_all(holder_of(job.id));
  // The process whose end is the job's here: mpirun; else the first failing rank; else the
  // first rank that did not exit 0 (killed when stopped); else all went well.
  int status = 0, rank = -1;
  const Proc* chosen = first_failure;
  for (const auto& p : procs) {
    if (p->request.empty() && p->exited && failed(p->status) && !chosen) chosen = p.get();
  }
  const auto mpirun =
      std::find_if(procs.begin(), procs.end(), [](const auto& p) { return p->label == "mpirun"; });
  if (mpirun != procs.end()) chosen = mpirun->get();
  if (chosen) {
    status = chosen->status;
    rank = chosen->rank;
  }
  if (mpirun != procs.end() && failed(status)) {
    // mpirun names the first rank that failed in its report.
    std::ifstream in(job.dir / "output.log");
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::int64_t>(in.tellg());
    in.seekg(std::max<std::int64_t>(0, size - 256 * 1024));
    const std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (const auto f = mpirun_first_failure(tail)) rank = f->rank;
  }
  std::string outputs_error;
  if (!job.order.outputs.empty() && job.order.leader) {
    outputs_error =
        stage_out(job.workdir, job.order.outputs, stage_out_, [&](const std::string& what) {
          protocol::JobReport progress;
          {
            const std::scoped_lock job_lock(job.mutex);
            job.report.state = "staging_out";
            job.report.message = what;
            progress = job.report;
          }
          report(progress);
        });
  }
  job.shipper->ship(true);
  protocol::JobReport ended;
  {
    const std::scoped_lock job_lock(job.mutex);
    job.report.outputs_error = outputs_error;
    job.report.state = "ended";
    job.report.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    job.report.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    job.report.rank = failed(status) ? rank : -1;
    job.report.message = job.stop_reason;
    ended = job.report;
  }
  SY_LOG(info, "jobs") << "job " << job.id << " ended here: "
                       << (ended.signal ? "signal " + std::to_string(ended.signal)
                                        : "exit " + std::to_string(ended.exit_code))
                       << (ended.rank >= 0 ? " (rank " + std::to_string(ended.rank) + ")" : "")
                       << (outputs_error.empty() ? "" : "; stage-out failed: " + outputs_error);
  report(ended);
}

}  // namespace sy::agent
