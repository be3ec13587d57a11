// `sy slurm-start`: a private Switchyard inside one Slurm allocation, as `flux start` makes a
// Flux instance: the controller on this (the first allocated) node, an agent on every node
// through one `srun` step, the user's command with SY_CONTROLLER pointing at it, and
// everything stopped when the command ends. The instance's own CA, made for the allocation,
// secures it (unless --insecure); its database is on local disk, its certificates and logs in
// a directory every node sees.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "common/slurm/hostlist.hpp"

extern char** environ;

namespace sy::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string env_or(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// Starts argv with its output appended to `log` (empty: inherited) and `extra` added to the
// environment. Returns the pid, or -1 with a message printed.
pid_t start(const std::vector<std::string>& argv, const std::string& log,
            const std::vector<std::string>& extra = {}) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::cerr << "sy slurm-start: fork: " << std::strerror(errno) << "\n";
    return -1;
  }
  if (pid > 0) return pid;
  if (!log.empty()) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
  }
  for (const auto& kv : extra)
    ::putenv(const_cast<char*>(kv.c_str()));
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  std::cerr << "sy slurm-start: cannot run " << argv[0] << ": " << std::strerror(errno) << "\n";
  ::_exit(127);
}

// The exit status of `pid` once it ends within `limit`; nullopt if it has not.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (r < 0 && errno != EINTR) return 1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void stop(pid_t pid, const char* what) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  if (!wait_for(pid, std::chrono::seconds(20))) {
    std::cerr << "sy slurm-start: " << what << " did not stop within 20 s; killing it\n";
    ::kill(pid, SIGKILL);
    wait_for(pid, std::chrono::seconds(5));
  }
}

// A program next to this one (installed: sy in bin, the daemons in sbin; a build tree: each
// in its own directory), else on PATH.
std::string find_program(const std::string& name, const std::vector<std::string>& beside) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (const auto& rel : beside) {
    const fs::path p = (self / rel / name).lexically_normal();
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return name;
}

// The first line of a program's output (empty on failure).
std::string output_of(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p))
      out += buf;
    ::pclose(p);
  }
  return out;
}

// How the other nodes reach this one: the NodeAddr Slurm has for it, else its host name.
std::string this_node_address(const std::string& node) {
  const std::string line = output_of("scontrol show node -o '" + node + "' 2>/dev/null");
  const auto at = line.find("NodeAddr=");
  if (at != std::string::npos) {
    const std::string addr = line.substr(at + 9, line.find_first_of(" \n", at) - at - 9);
    if (!addr.empty()) return addr;
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

volatile sig_atomic_t g_signal = 0;
void remember_signal(int sig) {
  g_signal = sig;
}

int failed_start(const std::string& why) {
  return failed("slurm-start: " + why);
}

// 'text' for /bin/sh, whatever it holds.
std::string sh_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

int cmd_slurm_start(const ClientConfig& client_config, const SlurmStartOptions& o) {
  const std::string job = env_or("SLURM_JOB_ID"), node = env_or("SLURMD_NODENAME");
  std::string shared_dir = o.shared_dir, state_dir = o.state_dir;
  const std::string topology = o.topology.empty() ? "" : fs::absolute(o.topology).string();
  const bool insecure = o.insecure;
  const int wait_s = o.wait_s;
  const std::vector<std::string>& command = o.command;
  if (job.empty() || env_or("SLURM_JOB_NODELIST").empty()) {
    return failed_start(
        "not inside a Slurm allocation (SLURM_JOB_ID and SLURM_JOB_NODELIST are "
        "unset): run it in an sbatch script, or as salloc -N2 srun --pty -N1 sy "
        "slurm-start -- ...");
  }
  if (node.empty()) {
    return failed_start(
        "this is not an allocated node (SLURMD_NODENAME is unset: salloc runs "
        "its command where it was started); run it as salloc ... srun --pty -N1 "
        "sy slurm-start -- ...");
  }
  auto nodes = slurm::expand_hostlist(env_or("SLURM_JOB_NODELIST"));
  if (!nodes || nodes->empty()) return failed_start("SLURM_JOB_NODELIST: not a host list");
  if (shared_dir.empty()) {
    std::error_code cwd_error;
    shared_dir = fs::current_path(cwd_error).string() + "/.sy-slurm-" + job;
  }
  if (state_dir.empty()) state_dir = env_or("TMPDIR", "/tmp") + "/sy-slurm-" + job;
  std::error_code ec;
  for (const auto& d : {shared_dir, state_dir}) {
    fs::create_directories(d, ec);
    fs::permissions(d, fs::perms::owner_all, ec);
    if (!fs::is_directory(d)) return failed_start("cannot create " + d);
  }
  const std::string controller_bin =
      find_program("sy-controller", {"../sbin", "../controller", "."});
  const std::string agent_bin = find_program("sy-agent", {"../sbin", "../agent", "."});
  const std::string address = this_node_address(node);

  // The allocation's own CA: a certificate for the controller and one per node.
  const std::string tls = shared_dir + "/tls";
  if (!insecure) {
    const std::string ca = find_program("cluster-ca", {"../share/switchyard", SY_SOURCE_SCRIPTS});
    const auto run_ca = [&](std::vector<std::string> args) {
      args.insert(args.begin(), ca);
      const pid_t pid = start(args, shared_dir + "/cluster-ca.log");
      return pid > 0 && wait_for(pid, std::chrono::seconds(60)) == 0;
    };
    bool ok = run_ca({"init", tls}) && run_ca({"controller", tls, address, node});
    for (const auto& n : nodes.value())
      ok = ok && run_ca({"node", tls, n});
    if (!ok)
      return failed_start("making the allocation's certificates failed; see " + shared_dir +
                          "/cluster-ca.log");
  }

  const std::string port_file = state_dir + "/port";
  fs::remove(port_file, ec);
  std::vector<std::string> controller_argv{
      controller_bin, "--listen", address + ":0", "--state-dir", state_dir + "/controller",
      "--port-file",  port_file};
  if (insecure) {
    controller_argv.push_back("--insecure");
  } else {
    for (const auto& [flag, file] :
         {std::pair{"--tls-ca", "ca.crt"}, std::pair{"--tls-cert", "controller.crt"},
          std::pair{"--tls-key", "controller.key"}}) {
      controller_argv.push_back(flag);
      controller_argv.push_back(tls + "/" + file);
    }
  }
  ::signal(SIGTERM, remember_signal);
  ::signal(SIGINT, remember_signal);
  ::signal(SIGHUP, remember_signal);
  const pid_t controller = start(controller_argv, shared_dir + "/controller.log");
  if (controller < 0) return 1;
  int port = 0;
  for (const auto deadline = Clock::now() + std::chrono::seconds(30);
       port == 0 && Clock::now() < deadline &&
       !wait_for(controller, std::chrono::milliseconds(100));) {
    std::ifstream in(port_file);
    in >> port;
  }
  if (port == 0) {
    stop(controller, "the controller");
    return failed_start("the controller did not start; see " + shared_dir + "/controller.log");
  }
  const std::string url = (insecure ? "" : "https://") + address + ":" + std::to_string(port);

  // One agent per node, in one step that shares the allocation with whatever else runs in it;
  // each names itself, and finds its certificate, by the node it landed on.
  std::string agent_line =
      "n=\"$SLURMD_NODENAME\"; d=" + sh_quote(env_or("TMPDIR", "/tmp") + "/sy-slurm-" + job + "-") +
      "\"$n\"; mkdir -p \"$d\" && exec " + sh_quote(agent_bin) + " --controller " + sh_quote(url) +
      " --node-name \"$n\" --tier0 \"$d/tier0\" --spool \"$d/spool\"";
  if (insecure) {
    agent_line += " --insecure";
  } else {
    agent_line += " --tls-ca " + sh_quote(tls + "/ca.crt") + " --tls-cert " + sh_quote(tls) +
                  "/\"$n\".crt --tls-key " + sh_quote(tls) + "/\"$n\".key";
  }
  if (!topology.empty()) agent_line += " --topology " + sh_quote(topology);
  const std::string count = std::to_string(nodes->size());
  const pid_t agents =
      start({"srun", "--overlap", "--nodes=" + count, "--ntasks=" + count, "--ntasks-per-node=1",
             "--kill-on-bad-exit=0", "--output=" + shared_dir + "/agent-%N.log", "/bin/sh", "-c",
             agent_line},
            shared_dir + "/srun-agents.log");

  // Ready when every node has registered.
  ClientConfig config = client_config;
  config.controller =
      parse_server_address("unix:" + state_dir + "/controller/sy.sock", 6820).value();
  ApiClient api(config, current_user());
  std::size_t up = 0;
  for (const auto deadline = Clock::now() + std::chrono::seconds(wait_s);
       up < nodes->size() && Clock::now() < deadline && !g_signal;) {
    if (agents > 0 && wait_for(agents, std::chrono::milliseconds(0))) break;
    if (auto listed = api.list_nodes(); listed && listed->is_array()) {
      up = 0;
      for (const auto& n : listed.value())
        up += n.value("state", "") == "UP";
    }
    if (up < nodes->size()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  int status = 1;
  if (up < nodes->size()) {
    std::cerr << "sy slurm-start: " << up << " of " << nodes->size() << " agents registered; see "
              << shared_dir << "/agent-*.log\n";
  } else {
    std::cerr << "sy slurm-start: Switchyard is up on " << env_or("SLURM_JOB_NODELIST")
              << " (controller " << url << "); running " << command.front() << "\n";
    const std::string sy_env = "SY_CONTROLLER=unix:" + state_dir + "/controller/sy.sock";
    const pid_t child = start(command, "", {sy_env});
    while (true) {
      if (auto done = wait_for(child, std::chrono::milliseconds(200))) {
        status = *done;
        break;
      }
      if (g_signal) {
        ::kill(child, g_signal);
        g_signal = 0;
      }
    }
  }
  stop(agents, "the agents' srun");
  stop(controller, "the controller");
  fs::remove_all(state_dir, ec);
  return status;
}

}  // namespace sy::cli
