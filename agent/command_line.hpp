#pragma once
// sy-agent's options, defined once: the parser, --help, the completion script and the man page
// all come from here. The job-side entry points (`rsh`, `rank`, `batch`, `task`, and the `srun`
// and `scontrol` the agent is started as inside jobs) take the words Open MPI, the agent or a
// Slurm script gives them verbatim, so main() hands them over before this parser runs.

#include <string>
#include <vector>

#include "agent/agent_config.hpp"
#include "agent/stage_command.hpp"
#include "common/command_line/command_line.hpp"

namespace sy::agent {

struct AgentCommandLine {
  AgentCommandLine();
  AgentCommandLine(const AgentCommandLine&) = delete;
  AgentCommandLine& operator=(const AgentCommandLine&) = delete;

  CLI::App app{"", "sy-agent"};
  CLI::App* discover = nullptr;
  CLI::App* stage = nullptr;
  std::string config_path;
  bool check_only = false, insecure = false, drain_on_stop = false;
  // The settings given as flags, laid over the --config file's at start and on every SIGHUP.
  AgentSettings flags;
  std::vector<std::string AgentSettings::*> flags_given;
  StageCommandOptions stage_options;
};

}  // namespace sy::agent
