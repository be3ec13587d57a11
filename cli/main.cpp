// sy: the Switchyard command-line client.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace {

constexpr const char* kUsage = R"(usage: sy [--controller HOST:PORT] COMMAND [ARGS]

commands:
  submit FILE.yaml [--parsable|--json]    submit a job; prints its id
  submit [SBATCH OPTIONS] SCRIPT          submit a Slurm batch script: its #SBATCH directives
                                          (overridden by the options) become the job; srun and
                                          scontrol work inside it (docs/slurm.md)
  slurm-start [OPTIONS] -- COMMAND        inside a Slurm allocation: a controller here, an
                                          agent on every allocated node, COMMAND run against
                                          them (sy slurm-start --help)
  queue [--all] [--state S,S] [--user U] [--json]
                                          list jobs (default: those not yet ended)
  queue --watch [--interval S] [--iterations N]
                                          the same, redrawn every S seconds (default 2)
  top [--interval S] [--once]             live view: every node's GPUs by job, grouped by
                                          leaf switch, and the queue with reasons
  dashboard [--ttl DURATION] [--json]     the web dashboard's address, with a read-only
                                          session for you (default: 12 hours)
  show ID [--json]                        one job in detail, with its history
  cancel ID [ID...]                       cancel jobs
  logs ID [-f] [--rank R]                 a job's output, every line labelled with its rank
                                          (-f: follow it until the job ends)
  nodes [--json]                          one line per node: state, GPUs, leaf switch
  node show NAME [--json]                 a node's GPU link matrix, NICs and NUMA placement
  drain NAME [--reason TEXT]              stop placing new jobs on a node
  resume NAME                             place jobs on it again
  dataset add NAME --source DIR           register a dataset on shared storage (hashes it; a
                                          changed source makes a new version)
  dataset list [--json]                   datasets with their current version and size
  dataset show NAME [--json]              one dataset, its versions and the nodes holding it
  stage NAME --node NODE [--json]         stage a dataset into a node's Tier-0 cache now, with
                                          a progress bar
  help                                    this text
  version                                 print the version

The controller is found through --controller, else $SY_CONTROLLER, else the file
$SY_CONFIG or ~/.config/switchyard/sy.yaml or /etc/switchyard/sy.yaml (key: controller),
else unix:/var/lib/switchyard/sy.sock. Addresses: unix:PATH (the controller's local socket:
it knows your uid), https://HOST:PORT (TLS; CA from $SY_TLS_CA or tls_ca; you are named by a
MUNGE credential), HOST:PORT (a controller run --insecure). Exit status: 0 done, 1 failed,
2 usage error.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string controller_flag;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    if (args[i] == "--controller" && i + 1 < args.size()) {
      controller_flag = args[++i];
    } else if (args[i].rfind("--controller=", 0) == 0) {
      controller_flag = args[i].substr(13);
    } else {
      break;
    }
  }
  if (i >= args.size() || args[i] == "help" || args[i] == "--help" || args[i] == "-h") {
    std::cout << kUsage;
    return i >= args.size() ? 2 : 0;
  }
  const std::string command = args[i];
  if (command == "version" || command == "--version") {
    std::cout << "sy " << SY_VERSION << "\n";
    return 0;
  }
  auto config = sy::cli::resolve_client_config(controller_flag);
  if (!config) {
    std::cerr << "sy: " << config.error() << "\n";
    return 2;
  }
  sy::cli::Invocation inv{config.value(), std::vector<std::string>(
                                              args.begin() + static_cast<long>(i) + 1, args.end())};
  if (command == "submit") return sy::cli::cmd_submit(inv);
  if (command == "queue") return sy::cli::cmd_queue(inv);
  if (command == "show") return sy::cli::cmd_show(inv);
  if (command == "cancel") return sy::cli::cmd_cancel(inv);
  if (command == "logs") return sy::cli::cmd_logs(inv);
  if (command == "nodes") return sy::cli::cmd_nodes(inv);
  if (command == "node") return sy::cli::cmd_node(inv);
  if (command == "stage") return sy::cli::cmd_stage(inv);
  if (command == "dataset" || command == "datasets") {
    if (command == "datasets" && inv.args.empty()) inv.args.push_back("list");
    return sy::cli::cmd_dataset(inv);
  }
  if (command == "drain") return sy::cli::cmd_drain(inv);
  if (command == "resume") return sy::cli::cmd_resume(inv);
  if (command == "slurm-start") return sy::cli::cmd_slurm_start(inv);
  if (command == "top") return sy::cli::cmd_top(inv);
  if (command == "dashboard") return sy::cli::cmd_dashboard(inv);
  std::cerr << "sy: unknown command '" << command << "'\n(see sy help)\n";
  return 2;
}
