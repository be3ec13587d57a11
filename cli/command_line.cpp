#include "cli/command_line.hpp"

#include <iostream>

#include "common/job_record.hpp"

namespace sy::cli {
namespace {

const CLI::Validator kJobId(
    [](std::string& text) {
      return parse_job_ref(text) ? std::string()
                                 : "'" + text + "' is not a job id (12, or 12_3 for an array task)";
    },
    "ID");

constexpr const char* kControllerHelp =
    R"(The controller is found through --controller, else $SY_CONTROLLER, else the file $SY_CONFIG
or ~/.config/switchyard/sy.yaml or /etc/switchyard/sy.yaml (key: controller), else
unix:/var/lib/switchyard/sy.sock. Addresses: unix:PATH (the controller's local socket: it knows
your uid), https://HOST:PORT (TLS; CA from $SY_TLS_CA or tls_ca; you are named by a MUNGE
credential), HOST:PORT (a controller run --insecure).
Exit status: 0 done, 1 failed, 2 usage error.
Shell completion: sy --generate-completion bash (the package installs it).)";

CLI::App* command(CLI::App& parent, const std::string& name, const std::string& description,
                  const std::vector<std::string>& examples, const std::string& notes = "") {
  CLI::App* sub = parent.add_subcommand(name, description);
  command_line::set_examples(*sub, examples, notes);
  return sub;
}

}  // namespace

SyCommandLine::SyCommandLine() {
  command_line::set_up_program(
      app,
      "the Switchyard client\n"
      "Submits training jobs and follows them; shows the cluster's nodes, GPUs and datasets.");
  app.footer(kControllerHelp);
  app.add_option("--controller", controller,
                 "the controller's address (unix:PATH, https://HOST:PORT or HOST:PORT)")
      ->type_name("ADDRESS");

  CLI::App* c = command(
      app, "submit", "submit a job file (YAML) or a Slurm batch script; prints its id",
      {"sy submit examples/jobs/hello.yaml",
       "sy submit --parsable -N 2 --gpus-per-node=4 train.sbatch"},
      "A batch script's #SBATCH directives, overridden by the sbatch options given before its\n"
      "name, become the job; srun and scontrol work inside it (docs/slurm.md).\n"
      "Environment: SY_ACCOUNT and SY_TIME_LIMIT are the account and time limit of a job that\n"
      "names none. SBATCH_ACCOUNT, SBATCH_TIMELIMIT, SBATCH_JOB_NAME, SBATCH_GPUS,\n"
      "SBATCH_GPUS_PER_NODE, SBATCH_GRES, SBATCH_EXCLUSIVE, SBATCH_REQUEUE and SBATCH_NO_REQUEUE\n"
      "act as sbatch's do on a batch script: over its directives, under the command line.");
  c->add_flag("--parsable", submit.parsable, "print only the job id");
  c->add_flag("--json", submit.json, "print {id, name} as JSON");
  // Everything else, in order, is sbatch's (-N 2, --gres=gpu:4, ...) and the file last: CLI11
  // keeps what it does not know for the command, where the sbatch translation reads it.
  c->allow_extras();
  c->callback([this, c] {
    submit.words = c->remaining();
    run = [this](const ClientConfig& config) { return cmd_submit(config, submit); };
  });

  c = command(app, "queue", "list jobs (default: those not yet ended), like squeue",
              {"sy queue", "sy queue --all --user alice", "sy queue --watch --interval 5"});
  c->add_flag("-a,--all", queue.all, "ended jobs too (as far back as retention keeps them)");
  c->add_option("-t,--state", queue.states, "only jobs in these states, comma-separated")
      ->type_name("S,S");
  c->add_option("-u,--user", queue.user, "only this user's jobs")->type_name("USER");
  CLI::Option* json = c->add_flag("--json", queue.json, "print the jobs as JSON");
  // --watch is for people, --json for programs.
  c->add_flag("-w,--watch", queue.watch, "redraw the table every --interval seconds")
      ->excludes(json);
  c->add_option("-n,--interval", queue.interval_s, "seconds between redraws (default 2)")
      ->check(command_line::at_least(0.2))
      ->type_name("S");
  c->add_option("--iterations", queue.iterations, "stop after N tables (default: until Ctrl-C)")
      ->check(CLI::PositiveNumber)
      ->type_name("N");
  c->callback([this] {
    if (queue.all) queue.states = "all";
    run = [this](const ClientConfig& config) { return cmd_queue(config, queue); };
  });

  c = command(app, "show", "one job in detail, with its placement, staging and history",
              {"sy show 12", "sy show 5_3 --json"});
  c->add_option("ID", show.id, "the job (12, or 12_3 for an array task)")
      ->required()
      ->check(kJobId);
  c->add_flag("--json", show.json, "print the job as JSON");
  c->callback([this] { run = [this](const ClientConfig& cfg) { return cmd_show(cfg, show); }; });

  c = command(app, "cancel", "cancel jobs (an array's id cancels all its tasks)",
              {"sy cancel 12", "sy cancel 5 7_2"});
  c->add_option("ID", cancel_ids, "the jobs")->required()->check(kJobId);
  c->callback(
      [this] { run = [this](const ClientConfig& cfg) { return cmd_cancel(cfg, cancel_ids); }; });

  c = command(app, "logs", "a job's output, every line labelled with its rank",
              {"sy logs 12", "sy logs 12 -f --rank 0"});
  c->add_option("ID", logs.id, "the job")->required()->check(kJobId);
  c->add_flag("-f,--follow", logs.follow, "follow the output until the job ends");
  c->add_option("--rank", logs.rank, "only this rank's lines")
      ->check(CLI::NonNegativeNumber)
      ->type_name("R");
  c->callback([this] { run = [this](const ClientConfig& cfg) { return cmd_logs(cfg, logs); }; });

  c = command(app, "nodes", "one line per node: state, GPUs in use, leaf switch",
              {"sy nodes", "sy nodes --json"});
  c->add_flag("--json", nodes_json, "print the nodes as JSON");
  c->callback(
      [this] { run = [this](const ClientConfig& cfg) { return cmd_nodes(cfg, nodes_json); }; });

  CLI::App* node = command(app, "node", "one node in detail", {"sy node show node01"});
  node->require_subcommand(1);
  c = command(*node, "show", "a node's GPU link matrix (as nvidia-smi topo -m), NICs and NUMA",
              {"sy node show node01"});
  c->add_option("NAME", node_show.name, "the node")->required();
  c->add_flag("--json", node_show.json, "print the node as JSON");
  c->callback(
      [this] { run = [this](const ClientConfig& cfg) { return cmd_node_show(cfg, node_show); }; });

  c = command(app, "drain", "stop placing new jobs on a node (running jobs go on)",
              {"sy drain node01 --reason \"fan\""});
  c->add_option("NAME", drain.node, "the node")->required();
  c->add_option("--reason", drain.reason, "why, shown in sy nodes")->type_name("TEXT");
  c->callback([this] { run = [this](const ClientConfig& cfg) { return cmd_drain(cfg, drain); }; });

  c = command(app, "resume", "place jobs on a drained node again", {"sy resume node01"});
  c->add_option("NAME", resume.node, "the node")->required();
  c->callback(
      [this] { run = [this](const ClientConfig& cfg) { return cmd_resume(cfg, resume); }; });

  CLI::App* dataset = command(app, "dataset", "datasets on shared storage",
                              {"sy dataset add cifar10 --source /shared/cifar10", "sy dataset list",
                               "sy dataset show cifar10"});
  dataset->alias("datasets");
  dataset->require_subcommand(0, 1);
  c = command(*dataset, "add",
              "register a dataset (the controller hashes it; a changed source makes a new "
              "version)",
              {"sy dataset add cifar10 --source /shared/cifar10"});
  c->add_option("NAME", dataset_add.name, "the dataset's name")->required();
  c->add_option("--source", dataset_add.source, "its directory on shared storage")
      ->required()
      ->type_name("DIR");
  c->add_flag("--json", dataset_add.json, "print the controller's answer as JSON");
  c->callback([this] {
    run = [this](const ClientConfig& cfg) { return cmd_dataset_add(cfg, dataset_add); };
  });
  c = command(*dataset, "list", "datasets with their current version and size",
              {"sy dataset list"});
  c->add_flag("--json", dataset_list_json, "print the datasets as JSON");
  c->callback([this] {
    run = [this](const ClientConfig& cfg) { return cmd_dataset_list(cfg, dataset_list_json); };
  });
  c = command(*dataset, "show", "one dataset, its versions and the nodes holding a copy",
              {"sy dataset show cifar10"});
  c->add_option("NAME", dataset_show.name, "the dataset")->required();
  c->add_flag("--json", dataset_show.json, "print the dataset as JSON");
  c->callback([this] {
    run = [this](const ClientConfig& cfg) { return cmd_dataset_show(cfg, dataset_show); };
  });
  // `sy datasets` (or `sy dataset`) alone lists them.
  dataset->callback([this, dataset] {
    if (!dataset->get_subcommands().empty()) return;
    run = [this](const ClientConfig& cfg) { return cmd_dataset_list(cfg, dataset_list_json); };
  });

  c = command(app, "stage", "stage a dataset into a node's Tier-0 cache now, with a progress bar",
              {"sy stage cifar10 --node node01"});
  c->add_option("DATASET", stage.dataset, "the dataset")->required();
  c->add_option("-w,--node", stage.node, "the node")->required()->type_name("NODE");
  c->add_flag("--json", stage.json, "print the final order as JSON");
  c->callback([this] { run = [this](const ClientConfig& cfg) { return cmd_stage(cfg, stage); }; });

  c = command(
      app, "slurm-start",
      "inside a Slurm allocation: a controller here, an agent on every node, COMMAND "
      "run against them",
      {"sy slurm-start --shared-dir $HOME/sy -- sy submit train.yaml"},
      "Run it in an sbatch script, or as salloc ... srun --pty: it starts a controller on\n"
      "this node and an agent on every allocated node, runs COMMAND with SY_CONTROLLER set\n"
      "to it, and stops them all when COMMAND ends (docs/slurm.md).");
  c->add_option("--shared-dir", slurm_start.shared_dir,
                "a directory every node sees (certificates, addresses; default: $HOME/.sy-slurm)")
      ->type_name("DIR");
  c->add_option("--state-dir", slurm_start.state_dir,
                "the controller's state (default: under the shared directory)")
      ->type_name("DIR");
  c->add_option("--topology", slurm_start.topology,
                "the topology every agent presents (schemas/topology.schema.json) instead of "
                "discovering it")
      ->type_name("FILE");
  c->add_flag("--insecure", slurm_start.insecure, "plain TCP without certificates");
  c->add_option("--wait", slurm_start.wait_s, "seconds to wait for every agent (default 120)")
      ->check(CLI::PositiveNumber)
      ->type_name("SECONDS");
  c->add_option("COMMAND", slurm_start.command, "the command to run, after --")->required();
  c->callback([this] {
    run = [this](const ClientConfig& cfg) { return cmd_slurm_start(cfg, slurm_start); };
  });

  c = command(app, "top",
              "live view: every node's GPUs by job, grouped by leaf switch, and the queue with "
              "reasons",
              {"sy top", "sy top --once"});
  c->add_option("-n,--interval", top.interval_s, "seconds between redraws (default 2)")
      ->check(command_line::at_least(0.2))
      ->type_name("S");
  c->add_flag("--once", top.once, "draw once and exit");
  c->callback([this] { run = [this](const ClientConfig& cfg) { return cmd_top(cfg, top); }; });

  c = command(app, "dashboard",
              "the web dashboard's address, with a read-only session for you in it",
              {"sy dashboard", "sy dashboard --ttl 1h --json"});
  c->add_option("--ttl", dashboard.ttl, "how long the session lasts (default 12h)")
      ->type_name("DURATION");
  c->add_flag("--json", dashboard.json, "print the session as JSON");
  c->callback(
      [this] { run = [this](const ClientConfig& cfg) { return cmd_dashboard(cfg, dashboard); }; });

  // `sy help` and `sy version`, as before the options existed.
  c = app.add_subcommand("help", "this text");
  c->callback([this] {
    needs_controller = false;
    run = [this](const ClientConfig&) {
      std::cout << app.help();
      return 0;
    };
  });
  c = app.add_subcommand("version", "print the version");
  c->callback([this] {
    needs_controller = false;
    run = [](const ClientConfig&) {
      std::cout << "sy " << SY_VERSION << "\n";
      return 0;
    };
  });
}

}  // namespace sy::cli
