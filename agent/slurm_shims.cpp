#include "agent/slurm_shims.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/rsh_server.hpp"
#include "common/base64.hpp"
#include "common/slurm/hostlist.hpp"

extern char** environ;

namespace sy::agent {
namespace {

std::string env_or(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

// Variables that describe one node or one process: each task's node sets its own.
bool node_local(const std::string& name) {
  static const std::set<std::string> names = {"CUDA_VISIBLE_DEVICES",
                                              "SY_AGENT_SOCKET",
                                              "SY_JOB_TOKEN",
                                              "SY_NODE_GPUS",
                                              "SY_NODE_GPU_CPUS",
                                              "SY_DATASETS_DIR",
                                              "SY_SLURM_BIN",
                                              "SY_SLURM_STEPS",
                                              "SY_JOB_SCRIPT",
                                              "SLURMD_NODENAME",
                                              "SLURM_NODEID",
                                              "SLURM_JOB_GPUS",
                                              "SLURM_GPUS_ON_NODE",
                                              "SLURM_PROCID",
                                              "SLURM_LOCALID",
                                              "HOSTNAME",
                                              "PWD",
                                              "OLDPWD",
                                              "SHLVL",
                                              "_",
                                              "OMPI_MCA_orte_tmpdir_base"};
  return names.contains(name) || name.rfind("SY_DATASET_", 0) == 0;
}

// PATH without the job's bin directory of this node (each node puts its own first).
std::string path_without(const std::string& path, const std::string& dir) {
  std::string out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto colon = path.find(':', start);
    const std::string part = path.substr(start, colon == std::string::npos ? colon : colon - start);
    if (part != dir) out += (out.empty() ? "" : ":") + part;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

// The next step number of this job: srun's steps are numbered from 0 in the order they start,
// as Slurm's are (SLURM_STEP_ID). The counter is a file the agent made for the job; several
// sruns at once (`srun ... &`) each get their own number under its lock.
int next_step_id() {
  const std::string path = env_or("SY_SLURM_STEPS");
  if (path.empty()) return 0;
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return 0;
  int id = 0;
  if (::flock(fd, LOCK_EX) == 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) std::from_chars(buf, buf + n, id);
    const std::string next = std::to_string(id + 1);
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, next.data(), next.size(), 0) < 0) id = 0;
  }
  ::close(fd);  // releases the lock
  return id;
}

int usage_error(const std::string& message) {
  std::cerr << "srun: error: " << message << "\n";
  return 1;
}

std::optional<int> positive(const std::string& text) {
  int n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || n < 1) return std::nullopt;
  return n;
}

int exit_status_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

Result<SrunStep, std::string> plan_srun_step(const SrunRequest& r,
                                             const std::vector<std::string>& job_nodes,
                                             std::optional<int> env_ntasks, int env_per_node) {
  SrunStep step;
  if (!r.nodelist.empty()) {
    auto listed = slurm::expand_hostlist(r.nodelist);
    if (!listed) return fail("--nodelist=" + r.nodelist + ": " + listed.error());
    for (const auto& n : listed.value()) {
      if (std::find(job_nodes.begin(), job_nodes.end(), n) == job_nodes.end()) {
        return fail("node " + n + " is not in the job's allocation (" +
                    slurm::compress_hostlist(job_nodes) + ")");
      }
      step.nodes.push_back(n);
    }
    if (r.nodes && *r.nodes != static_cast<int>(step.nodes.size())) {
      return fail("--nodes=" + std::to_string(*r.nodes) + " does not match the " +
                  std::to_string(step.nodes.size()) + " nodes of --nodelist");
    }
  } else {
    const int available = static_cast<int>(job_nodes.size());
    int count = available;
    if (r.nodes) {
      count = *r.nodes;
    } else if (r.ntasks) {
      count = std::min(*r.ntasks, available);
    }
    if (count > available) {
      return fail("--nodes=" + std::to_string(count) + " is more than the job's " +
                  std::to_string(available) + " nodes");
    }
    step.nodes.assign(job_nodes.begin(), job_nodes.begin() + count);
  }
  const int node_count = static_cast<int>(step.nodes.size());
  int ntasks = 0;
  if (r.ntasks) {
    ntasks = *r.ntasks;
  } else if (r.ntasks_per_node || r.nodes || !r.nodelist.empty()) {
    ntasks = node_count * r.ntasks_per_node.value_or(env_per_node);
  } else {
    // Plain `srun CMD` in the batch script: the job's tasks, as sbatch's variables say.
    ntasks = env_ntasks.value_or(node_count * env_per_node);
  }
  if (ntasks < node_count) {
    return fail(std::to_string(ntasks) + " tasks cannot cover " + std::to_string(node_count) +
                " nodes");
  }
  // Block distribution: the first nodes take one more when the tasks do not divide evenly.
  for (int n = 0; n < node_count; ++n)
    step.tasks.push_back(ntasks / node_count + (n < ntasks % node_count ? 1 : 0));
  return step;
}

int run_srun_command(int argc, char** argv) {
  if (env_or("SLURM_JOB_ID").empty() || env_or("SY_JOB_TOKEN").empty()) {
    return usage_error("this srun runs only inside a Switchyard job submitted as a batch script");
  }
  std::optional<int> nodes_opt, ntasks_opt, per_node_opt;
  std::string nodelist_opt;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.empty() || a[0] != '-') break;  // the command
    std::string name = a, value;
    bool has_value = false;
    if (a.rfind("--", 0) == 0) {
      if (const auto eq = a.find('='); eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        has_value = true;
      }
    } else if (a.size() > 2) {
      name = a.substr(0, 2);
      value = a.substr(2);
      has_value = true;
    }
    for (char& c : name) {
      if (c == '_') c = '-';  // --cpu_bind and --cpu-bind
    }
    static const std::set<std::string> with_value = {"-N",
                                                     "--nodes",
                                                     "-n",
                                                     "--ntasks",
                                                     "--ntasks-per-node",
                                                     "-w",
                                                     "--nodelist",
                                                     "-c",
                                                     "--cpus-per-task",
                                                     "--cpu-bind",
                                                     "--mpi",
                                                     "--export",
                                                     "-W",
                                                     "--wait",
                                                     "--jobid",
                                                     "-J",
                                                     "--job-name",
                                                     "--gpus",
                                                     "-G",
                                                     "--gpus-per-node",
                                                     "--gpus-per-task",
                                                     "--gres",
                                                     "--mem",
                                                     "-t",
                                                     "--time",
                                                     "--distribution",
                                                     "-m",
                                                     "--gpu-bind"};
    static const std::set<std::string> flags = {
        "-l",           "--label", "--overlap",          "--exact",         "--exclusive", "-u",
        "--unbuffered", "-K",      "--kill-on-bad-exit", "--wait-all-nodes"};
    if (name.rfind("--container", 0) == 0) {
      return usage_error(name +
                         ": containers (pyxis/enroot) are not supported inside "
                         "Switchyard jobs; run the program from the node's environment");
    }
    if (!with_value.contains(name) && !flags.contains(name)) {
      return usage_error("option " + name + " is not supported by Switchyard's srun");
    }
    if (with_value.contains(name) && !has_value) {
      if (i + 1 >= argc) return usage_error(name + " needs a value");
      value = argv[++i];
    }
    if (name == "-N" || name == "--nodes") {
      nodes_opt = positive(value);
      if (!nodes_opt) return usage_error("--nodes=" + value + ": give one count");
    } else if (name == "-n" || name == "--ntasks") {
      ntasks_opt = positive(value);
      if (!ntasks_opt) return usage_error("--ntasks=" + value + " is not a count");
    } else if (name == "--ntasks-per-node") {
      per_node_opt = positive(value);
      if (!per_node_opt) return usage_error("--ntasks-per-node=" + value + " is not a count");
    } else if (name == "-w" || name == "--nodelist") {
      nodelist_opt = value;
    } else if (name == "--distribution" || name == "-m") {
      if (value.rfind("block", 0) != 0) {
        return usage_error("--distribution=" + value + ": only block is supported");
      }
    }
    // The rest (binding, labels, waits, GPU options) leave the tasks as they are: a task sees
    // all the job's GPUs of its node, as in Slurm without --gpus-per-task.
  }
  if (i >= argc) return usage_error("no command given");
  std::vector<std::string> command(argv + i, argv + argc);

  auto job_nodes = slurm::expand_hostlist(env_or("SLURM_JOB_NODELIST"));
  if (!job_nodes || job_nodes->empty()) return usage_error("SLURM_JOB_NODELIST is not a host list");
  auto step = plan_srun_step({.nodes = nodes_opt,
                              .ntasks = ntasks_opt,
                              .ntasks_per_node = per_node_opt,
                              .nodelist = nodelist_opt},
                             job_nodes.value(), positive(env_or("SLURM_NTASKS")),
                             positive(env_or("SLURM_NTASKS_PER_NODE", "1")).value_or(1));
  if (!step) return usage_error(step.error());
  const std::vector<std::string>& nodes = step->nodes;
  const int node_count = static_cast<int>(nodes.size());
  int ntasks = 0;
  for (const int t : step->tasks)
    ntasks += t;

  // The environment the tasks get: this one's, without what each node sets for itself.
  const std::string own_bin = env_or("SY_SLURM_BIN");
  nlohmann::json env = nlohmann::json::object();
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = kv.substr(0, eq);
    if (node_local(k)) continue;
    env[k] = k == "PATH" ? path_without(kv.substr(eq + 1), own_bin) : kv.substr(eq + 1);
  }
  char cwd[4096];
  const std::string workdir = ::getcwd(cwd, sizeof cwd) ? std::string(cwd) : env_or("PWD");
  const std::string step_nodelist = slurm::compress_hostlist(nodes);

  const int step_id = next_step_id();
  std::vector<std::future<Result<int, std::string>>> runs;
  int procid = 0;
  for (int n = 0; n < node_count; ++n) {
    const int here = step->tasks[static_cast<std::size_t>(n)];
    nlohmann::json spec{{"argv", command},      {"env", env},
                        {"cwd", workdir},       {"first_procid", procid},
                        {"tasks", here},        {"ntasks", ntasks},
                        {"nnodes", node_count}, {"step_nodelist", step_nodelist},
                        {"step_id", step_id}};
    procid += here;
    std::string line = "sy-agent task " + base64(spec.dump());
    if (line.size() > 60 * 1024) {
      return usage_error("the environment and command are too large to pass to the tasks (" +
                         std::to_string(line.size() / 1024) + " KiB; at most 60 KiB)");
    }
    const std::string node = nodes[static_cast<std::size_t>(n)];
    runs.push_back(
        std::async(std::launch::async, [node, line] { return exec_on_node(node, line, true); }));
  }
  int worst = 0;
  for (std::size_t n = 0; n < runs.size(); ++n) {
    auto r = runs[n].get();
    if (!r) {
      std::cerr << "srun: error: " << r.error() << "\n";
      worst = std::max(worst, 1);
    } else {
      if (r.value() != 0) {
        std::cerr << "srun: error: " << nodes[n] << ": task(s) exited with exit code " << r.value()
                  << "\n";
      }
      worst = std::max(worst, r.value());
    }
  }
  return worst;
}

int run_task_command(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: sy-agent task SPEC  (what srun runs on each node of a job)\n";
    return 2;
  }
  const auto decoded = unbase64(argv[1]);
  const auto spec = decoded ? nlohmann::json::parse(*decoded, nullptr, false) : nlohmann::json();
  if (!spec.is_object() || !spec.contains("argv") || !spec["argv"].is_array() ||
      spec["argv"].empty() || !spec.contains("env") || !spec["env"].is_object()) {
    std::cerr << "sy-agent task: the task list is malformed\n";
    return 2;
  }
  try {
    const auto command = spec["argv"].get<std::vector<std::string>>();
    const int first = spec.value("first_procid", 0), count = spec.value("tasks", 1);
    const std::string bin = env_or("SY_SLURM_BIN");
    std::vector<pid_t> children;
    for (int local = 0; local < count; ++local) {
      const pid_t pid = ::fork();
      if (pid < 0) {
        std::cerr << "sy-agent task: fork: " << std::strerror(errno) << "\n";
        break;
      }
      if (pid > 0) {
        children.push_back(pid);
        continue;
      }
      for (const auto& [k, v] : spec["env"].items()) {
        std::string value = v.get<std::string>();
        if (k == "PATH" && !bin.empty()) value = bin + ":" + value;
        ::setenv(k.c_str(), value.c_str(), 1);
      }
      ::setenv("SLURM_PROCID", std::to_string(first + local).c_str(), 1);
      ::setenv("SLURM_LOCALID", std::to_string(local).c_str(), 1);
      ::setenv("SLURM_STEP_NUM_TASKS", std::to_string(spec.value("ntasks", 1)).c_str(), 1);
      ::setenv("SLURM_NTASKS", std::to_string(spec.value("ntasks", 1)).c_str(), 1);
      ::setenv("SLURM_STEP_NUM_NODES", std::to_string(spec.value("nnodes", 1)).c_str(), 1);
      ::setenv("SLURM_STEP_NODELIST", spec.value("step_nodelist", std::string()).c_str(), 1);
      const std::string step = std::to_string(spec.value("step_id", 0));
      ::setenv("SLURM_STEP_ID", step.c_str(), 1);
      ::setenv("SLURM_STEPID", step.c_str(), 1);
      const std::string cwd = spec.value("cwd", std::string());
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
        std::cerr << "srun: error: cannot change to " << cwd << ": " << std::strerror(errno)
                  << "\n";
        ::_exit(1);
      }
      std::vector<char*> args;
      for (const auto& a : command)
        args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      std::cerr << "srun: error: execve(): " << command[0] << ": " << std::strerror(errno) << "\n";
      ::_exit(errno == ENOENT ? 127 : 126);
    }
    int worst = children.size() == static_cast<std::size_t>(count) ? 0 : 1;
    for (const pid_t pid : children) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      worst = std::max(worst, exit_status_of(status));
    }
    return worst;
  } catch (const nlohmann::json::exception& e) {
    std::cerr << "sy-agent task: the task list is malformed: " << e.what() << "\n";
    return 2;
  }
}

int run_scontrol_command(int argc, char** argv) {
  const std::string what = argc > 2 ? std::string(argv[1]) + " " + argv[2] : "";
  if (what == "show hostnames" || what == "show hostname") {
    const std::string list = argc > 3 ? argv[3] : env_or("SLURM_JOB_NODELIST");
    auto names = slurm::expand_hostlist(list);
    if (!names) {
      std::cerr << "scontrol: error: " << names.error() << "\n";
      return 1;
    }
    for (const auto& n : names.value())
      std::cout << n << "\n";
    return 0;
  }
  if (what == "show hostlist" || what == "show hostlistsorted") {
    if (argc < 4) {
      std::cerr << "scontrol: error: show hostlist needs a list of names\n";
      return 1;
    }
    auto names = slurm::expand_hostlist(argv[3]);
    if (!names) {
      std::cerr << "scontrol: error: " << names.error() << "\n";
      return 1;
    }
    std::cout << slurm::compress_hostlist(names.value()) << "\n";
    return 0;
  }
  std::cerr << "scontrol: error: inside a Switchyard job only 'scontrol show hostnames [LIST]' "
               "and 'scontrol show hostlist NAMES' are available; use `sy` for the rest\n";
  return 1;
}

int run_batch_command(int argc, char** argv) {
  std::string out_path, err_path;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if ((a == "--stdout" || a == "--stderr") && i + 1 < argc) {
      (a == "--stdout" ? out_path : err_path) = argv[++i];
    } else {
      std::cerr << "usage: sy-agent batch --stdout FILE --stderr FILE -- SCRIPT\n";
      return 2;
    }
  }
  if (i >= argc) {
    std::cerr << "usage: sy-agent batch --stdout FILE --stderr FILE -- SCRIPT\n";
    return 2;
  }
  // Opened here, as the job's user: the job may write only where its user may.
  int out_fd = -1;
  for (const auto& [path, fd] : {std::pair{out_path, 1}, std::pair{err_path, 2}}) {
    if (path.empty()) continue;
    if (fd == 2 && path == out_path && out_fd >= 0) {
      ::dup2(1, 2);
      continue;
    }
    const int opened = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (opened < 0) {
      // Said in the job's log (where this process writes until now) and the job fails.
      std::cerr << "sy-agent batch: cannot open the job's output file " << path << ": "
                << std::strerror(errno) << "\n";
      return 1;
    }
    ::dup2(opened, fd);
    ::close(opened);
    if (fd == 1) out_fd = 1;
  }
  std::string first_line;
  if (std::ifstream script(argv[i]); script) std::getline(script, first_line);
  const auto run = batch_argv(first_line, std::vector<std::string>(argv + i, argv + argc));
  std::vector<char*> args;
  for (const auto& a : run)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  std::cerr << "sy-agent batch: cannot run " << args[0] << ": " << std::strerror(errno) << "\n";
  return 127;
}

std::vector<std::string> batch_argv(const std::string& first_line,
                                    const std::vector<std::string>& script_and_args) {
  if (first_line.rfind("#!", 0) != 0 || script_and_args.empty()) return script_and_args;
  // "#!INTERPRETER [ARG]": the kernel passes everything after the interpreter as one argument.
  const auto trim = [](std::string_view t) {
    const auto a = t.find_first_not_of(" \t\r");
    if (a == std::string_view::npos) return std::string_view();
    return t.substr(a, t.find_last_not_of(" \t\r") - a + 1);
  };
  const std::string_view rest = trim(std::string_view(first_line).substr(2));
  const auto gap = rest.find_first_of(" \t");
  const std::string interpreter(rest.substr(0, gap));
  const std::string flag(gap == std::string_view::npos ? std::string_view()
                                                       : trim(rest.substr(gap)));
  // A login shell: "-l", "--login", or a cluster of short flags holding 'l' ("-le").
  std::string other_flags;
  bool login = flag == "--login";
  if (!login && flag.size() >= 2 && flag[0] == '-' && flag[1] != '-' &&
      flag.find_first_of(" \t") == std::string::npos && flag.find('l') != std::string::npos) {
    login = true;
    for (const char c : flag.substr(1)) {
      if (c != 'l') other_flags += c;
    }
  }
  if (!login || interpreter.empty()) return script_and_args;
  // The login profile rebuilds PATH and so drops the job's srun and scontrol, which Slurm's own
  // survive by being on the system PATH. Here the login shell reads its profile as usual, puts
  // the job's bin directory first again, and then runs the script with the same interpreter
  // (its other flags kept) in the environment the profile made. $0 is the interpreter.
  std::vector<std::string> out{interpreter, flag, "-c",
                               "if [ -n \"$SY_SLURM_BIN\" ]; then PATH=\"$SY_SLURM_BIN:$PATH\"; "
                               "export PATH; fi; exec \"$0\" " +
                                   (other_flags.empty() ? std::string() : "-" + other_flags + " ") +
                                   "\"$@\"",
                               interpreter};
  out.insert(out.end(), script_and_args.begin(), script_and_args.end());
  return out;
}

}  // namespace sy::agent
