// Slurm SPANK plugin: `sbatch/srun --sy-dataset=NAME[,NAME]` stages Switchyard datasets into the
// node's Tier-0 cache in the job's prolog, through the node's sy-agent (ordered by the
// controller, as `sy stage NAME --node NODE` does), and tells the job's tasks where each copy is
// (SY_DATASET_<NAME>). A copy already on the node is only checked, not copied again.
//
// plugstack.conf:
//   required /usr/lib/switchyard/spank_sy_dataset.so [sy=/usr/bin/sy] [controller=ADDRESS]
//            [tier0=/var/lib/switchyard/tier0] [state=/run/switchyard/spank]
// `%n` in tier0 and state is the node's name (several slurmd on one host, as in tests). The
// prolog runs as root: through the controller's local socket (unix:...) it is an administrator.
//
// Loaded into Slurm's own programs, it links nothing of Switchyard: it runs `sy` and reads
// `sy stage --json`'s answer.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/comma_list.hpp"
#include "common/dataset/dataset_name.hpp"
#include "common/slurm/hostlist.hpp"

// spank.h declares the callbacks a plugin defines outside its own extern "C" block.
extern "C" {
#include <slurm/spank.h>
}

// The macro's constants need external linkage, which C++ gives a const only when declared extern.
extern "C" {
extern const char plugin_name[];
extern const char plugin_type[];
extern const unsigned int plugin_version;
extern const unsigned int spank_plugin_version;
SPANK_PLUGIN(sy_dataset, 1)
}

namespace {

struct Settings {
  std::string sy = "/usr/bin/sy";
  std::string controller;  // empty: sy's own configuration
  std::string tier0 = "/var/lib/switchyard/tier0";
  std::string state = "/run/switchyard/spank";
};

std::string with_node(std::string text, const std::string& node) {
  for (auto at = text.find("%n"); at != std::string::npos; at = text.find("%n", at + node.size()))
    text.replace(at, 2, node);
  return text;
}

Settings read_settings(int ac, char** av, const std::string& node) {
  Settings s;
  for (int i = 0; i < ac; ++i) {
    const std::string a = av[i];
    const auto eq = a.find('=');
    const std::string key = a.substr(0, eq),
                      value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (key == "sy") s.sy = value;
    if (key == "controller") s.controller = value;
    if (key == "tier0") s.tier0 = value;
    if (key == "state") s.state = value;
    if (key != "sy" && key != "controller" && key != "tier0" && key != "state") {
      slurm_error("sy-dataset: unknown plugstack.conf argument '%s' (sy, controller, tier0, state)",
                  a.c_str());
    }
  }
  s.tier0 = with_node(s.tier0, node);
  s.state = with_node(s.state, node);
  return s;
}

// At submission (sbatch, srun): every name must be a dataset name.
int check_option(int, const char* optarg, int) {
  for (const auto& name : sy::split_commas(optarg ? optarg : "")) {
    if (!sy::dataset::valid_dataset_name(name)) {
      slurm_error("--sy-dataset: '%s' is not a dataset name (letters, digits, '.', '_', '-')",
                  name.c_str());
      return -1;
    }
  }
  return 0;
}

struct spank_option sy_dataset_option = {
    const_cast<char*>("sy-dataset"),
    const_cast<char*>("NAME[,NAME]"),
    const_cast<char*>("Stage these Switchyard datasets to each node's Tier-0 cache before the job "
                      "starts; tasks find them in $SY_DATASET_<NAME>"),
    1,
    0,
    check_option};

// Runs argv and returns its standard output, or an error text.
bool run(const std::vector<std::string>& argv, std::string& out) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string state_file(const Settings& s, std::uint32_t job) {
  return s.state + "/job-" + std::to_string(job) + ".env";
}

std::uint32_t job_id(spank_t sp) {
  std::uint32_t job = 0;
  spank_get_item(sp, S_JOB_ID, &job);
  return job;
}

// The node's Slurm name in a step: the job's node list at this node's index (slurmstepd's
// environment does not name it before the tasks start).
std::string this_node(spank_t sp) {
  if (const char* n = std::getenv("SLURMD_NODENAME")) return n;
  char list[8192] = {};
  std::uint32_t index = 0;
  if (spank_getenv(sp, "SLURM_JOB_NODELIST", list, sizeof list) != ESPANK_SUCCESS ||
      spank_get_item(sp, S_JOB_NODEID, &index) != ESPANK_SUCCESS) {
    return "";
  }
  auto nodes = sy::slurm::expand_hostlist(list);
  return nodes && index < nodes->size() ? nodes.value()[index] : "";
}

}  // namespace

extern "C" {

int slurm_spank_init(spank_t sp, int, char**) {
  return spank_option_register(sp, &sy_dataset_option) == ESPANK_SUCCESS ? 0 : -1;
}

// As root on each node, before the job's first step there: stage every dataset, and write down
// where each copy is for the tasks (user_init below).
int slurm_spank_job_prolog(spank_t sp, int ac, char** av) {
  char* list = nullptr;
  if (spank_option_getopt(sp, &sy_dataset_option, &list) != ESPANK_SUCCESS || !list) return 0;
  const char* node_env = std::getenv("SLURMD_NODENAME");
  const std::string node = node_env ? node_env : "";
  const Settings s = read_settings(ac, av, node);
  const std::uint32_t job = job_id(sp);
  std::string lines;
  for (const auto& name : sy::split_commas(list)) {
    if (!sy::dataset::valid_dataset_name(name)) {
      slurm_error("sy-dataset: job %u: '%s' is not a dataset name", job, name.c_str());
      return -1;
    }
    std::vector<std::string> argv{s.sy};
    if (!s.controller.empty()) {
      argv.push_back("--controller");
      argv.push_back(s.controller);
    }
    for (const char* a : {"stage", "--json", "--node"})
      argv.push_back(a);
    argv.push_back(node);
    argv.push_back(name);
    std::string out;
    const bool ok = run(argv, out);
    const auto answer = nlohmann::json::parse(out, nullptr, false);
    if (!ok || !answer.is_object() || answer.value("state", "") != "done" ||
        !answer.contains("version") || !answer["version"].is_string()) {
      slurm_error("sy-dataset: job %u: staging %s on %s failed (%s stage: %s)", job, name.c_str(),
                  node.c_str(), s.sy.c_str(), out.empty() ? "no answer" : out.c_str());
      return -1;
    }
    lines += sy::dataset::dataset_variable(name) + "=" + s.tier0 + "/" + name + "@" +
             answer["version"].get<std::string>() + "\n";
    slurm_info("sy-dataset: job %u: %s@%s is on %s", job, name.c_str(),
               answer["version"].get<std::string>().c_str(), node.c_str());
  }
  ::mkdir(s.state.c_str(), 0755);
  std::ofstream file(state_file(s, job), std::ios::trunc);
  file << lines;
  if (!file.flush()) {
    slurm_error("sy-dataset: cannot write %s", state_file(s, job).c_str());
    return -1;
  }
  return 0;
}

// In each step on the node, before its tasks start: SY_DATASET_<NAME> for each staged copy.
int slurm_spank_user_init(spank_t sp, int ac, char** av) {
  char* list = nullptr;
  if (spank_option_getopt(sp, &sy_dataset_option, &list) != ESPANK_SUCCESS) return 0;
  const std::string node = this_node(sp);
  const Settings s = read_settings(ac, av, node);
  std::ifstream file(state_file(s, job_id(sp)));
  std::string line;
  int set = 0;
  while (std::getline(file, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    spank_setenv(sp, line.substr(0, eq).c_str(), line.substr(eq + 1).c_str(), 1);
    ++set;
  }
  if (set == 0) {
    slurm_error("sy-dataset: no staged datasets recorded for job %u on %s (%s)", job_id(sp),
                node.c_str(), state_file(s, job_id(sp)).c_str());
    return -1;
  }
  return 0;
}

int slurm_spank_job_epilog(spank_t sp, int ac, char** av) {
  const char* node = std::getenv("SLURMD_NODENAME");
  const Settings s = read_settings(ac, av, node ? node : "");
  ::unlink(state_file(s, job_id(sp)).c_str());
  return 0;
}

}  // extern "C"
