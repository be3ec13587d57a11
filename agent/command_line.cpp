#include "agent/command_line.hpp"

namespace sy::agent {
namespace {

void add_stage(CLI::App& stage, StageCommandOptions& o) {
  stage.add_option("--from", o.from, "the directory to copy")->required()->type_name("SRC");
  stage.add_option("--to", o.to, "where the copy goes")->type_name("DST");
  stage
      .add_option("--dataset", o.dataset_name,
                  "hash SRC first (as sy dataset add does) and copy it to DIR/NAME@VERSION")
      ->type_name("NAME");
  stage
      .add_option("--cache", o.cache_dir,
                  "the Tier-0 cache the copy goes into (with --dataset): an agent started "
                  "with --tier0 DIR finds it and reports it")
      ->type_name("DIR");
  stage
      .add_option("--parallel", o.parallel,
                  "files (or 8 MiB pieces of large files) in flight (default 16)")
      ->check(CLI::Range(1, 256))
      ->type_name("N");
  stage.add_flag("--full-check", o.full_check,
                 "re-hash every file of an existing DST instead of trusting unchanged stats");
  stage
      .add_option("--manifest", o.manifest_in,
                  "stage this manifest (JSON, as GET /v1/datasets/NAME/manifest answers) "
                  "instead of listing SRC: what the agent does with a stage order")
      ->type_name("FILE");
  stage
      .add_option("--write-manifest", o.manifest_out,
                  "write the manifest of what was staged, digests included")
      ->type_name("FILE");
  stage
      .add_option("--version", o.version,
                  "check an existing DST of version V against its own record (what an agent "
                  "does with a check order: no manifest, no listing of SRC)")
      ->type_name("V");
  command_line::set_examples(
      stage,
      {"sy-agent stage --from /shared/imagenet --to /nvme/imagenet --parallel 32",
       "sy-agent stage --from /shared/cifar10 --dataset cifar10 --cache /var/lib/switchyard/tier0"},
      "Many files in flight, every file hashed (XXH3) as it is written, DST published only when\n"
      "complete (until then in .DST.partial beside it), resumable after a kill; a second run on\n"
      "an unchanged SRC and intact DST costs one stat per file. DST must not exist, be empty, or\n"
      "be a copy made by this command. Give --to, or --dataset with --cache.");
}

}  // namespace

AgentCommandLine::AgentCommandLine() {
  command_line::set_up_program(
      app,
      "the Switchyard node agent\n"
      "Discovers this node's GPUs, NICs and links, registers them with the controller, stages\n"
      "datasets and runs jobs.");
  app.add_option("--config", config_path,
                 "YAML settings (schemas/agent-config.schema.json; under systemd "
                 "/etc/switchyard/agent.yaml). Every option below may be set there under its "
                 "name with '_' for '-' (tls: {ca, cert, key}; features: a list); flags "
                 "override the file")
      ->type_name("FILE");
  app.add_flag("--check-config", check_only, "validate the settings (file and flags) and exit");
  struct Setting {
    const char* name;
    std::string AgentSettings::*member;
    const char* value;
    const char* help;
  };
  const Setting settings[] = {
      {"--controller", &AgentSettings::controller, "ADDRESS",
       "the controller: https://HOST:PORT, or HOST:PORT with --insecure (default "
       "127.0.0.1:6820)"},
      {"--topology", &AgentSettings::topology_file, "FILE",
       "present this topology (schemas/topology.schema.json) instead of discovering one: how a "
       "whole fake cluster runs on one machine"},
      {"--node-name", &AgentSettings::node_name, "NAME",
       "the node's name (default: the host name)"},
      {"--features", &AgentSettings::features, "LIST",
       "features this node offers to jobs that ask for them, comma-separated (e.g. ib,nvme); "
       "added to those of the topology file"},
      {"--tier0", &AgentSettings::tier0_dir, "DIR",
       "the dataset cache on local NVMe (default /var/lib/switchyard/tier0)"},
      {"--tier0-quota", &AgentSettings::tier0_quota, "SIZE",
       "how much of it datasets may use (default 90% of the filesystem)"},
      {"--stage-bandwidth", &AgentSettings::stage_bandwidth, "SIZE",
       "read datasets from shared storage no faster than SIZE per second (e.g. 500M; default: "
       "no limit)"},
      {"--spool", &AgentSettings::spool_dir, "DIR",
       "where jobs' scripts, dataset links and output go (default /var/lib/switchyard/jobs)"},
      {"--mpirun", &AgentSettings::mpirun, "PATH",
       "the mpirun that mpi jobs start (default: mpirun on PATH)"},
      {"--cgroup", &AgentSettings::cgroup, "DIR|auto|none",
       "where each job gets a cgroup v2 directory, so that no process it starts outlives it "
       "(default auto: below the agent's own cgroup when it may create one there; none: "
       "process groups only)"},
      {"--metrics-listen", &AgentSettings::metrics_listen, "HOST:PORT",
       "serve GET /metrics (Prometheus text: jobs, Tier-0 cache, staging) on this address, "
       "plain HTTP (default: not served)"},
      {"--log-level", &AgentSettings::log_level, "LEVEL",
       "debug, info, warn or error (default info)"},
  };
  for (const Setting& s : settings) {
    const auto member = s.member;
    app.add_option_function<std::string>(
           s.name,
           [this, member](const std::string& value) {
             flags.*member = value;
             flags_given.push_back(member);
           },
           s.help)
        ->type_name(s.value);
  }
  app.add_option("--tls-ca", flags.tls.ca,
                 "the cluster CA's certificate: the controller's must come from it")
      ->type_name("FILE");
  app.add_option("--tls-cert", flags.tls.cert,
                 "this node's certificate (its common name is the node's name; scripts/cluster-ca "
                 "node NAME makes it)")
      ->type_name("FILE");
  app.add_option("--tls-key", flags.tls.key, "its private key")->type_name("FILE");
  app.add_flag("--insecure", insecure, "plain TCP without certificates (local development only)");
  app.add_flag("--drain-on-stop", drain_on_stop,
               "on SIGTERM, drain the node and stop only once its jobs have ended (a second "
               "SIGTERM stops at once)");

  discover =
      app.add_subcommand("discover", "print the topology the agent would register (JSON) and exit");
  discover->fallthrough();
  command_line::set_examples(
      *discover,
      {"sy-agent discover", "sy-agent discover --topology examples/topologies/dgx1-v100.yaml"},
      "sy-agent's own options (--topology, --features, --config) apply.");
  stage = app.add_subcommand("stage", "copy a directory as the agent stages datasets");
  add_stage(*stage, stage_options);

  app.footer(
      "SIGTERM or SIGINT stops the agent and the jobs it runs (see --drain-on-stop). SIGHUP reads\n"
      "--config again: log_level and stage_bandwidth change at once; other changed settings are\n"
      "named in the log and wait for a restart. Under systemd (Type=notify) it reports\n"
      "readiness, reloads and stopping, and pings the watchdog (WatchdogSec=).\n"
      "Inside jobs it is also Open MPI's launch agent (sy-agent rsh, sy-agent rank) and a Slurm\n"
      "batch script's srun and scontrol (docs/slurm.md).\n\n"
      "Example:\n"
      "  sy-agent --controller https://ctl:6820 --tls-ca ca.crt --tls-cert node01.crt \\\n"
      "    --tls-key node01.key --tier0 /nvme/sy-tier0");
}

}  // namespace sy::agent
