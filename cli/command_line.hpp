#pragma once
// Every `sy` command and option, defined once: the parser, --help, the completion script and the
// man page all come from here.

#include <functional>
#include <string>

#include "cli/commands.hpp"
#include "common/command_line/command_line.hpp"

namespace sy::cli {

struct SyCommandLine {
  SyCommandLine();
  SyCommandLine(const SyCommandLine&) = delete;
  SyCommandLine& operator=(const SyCommandLine&) = delete;

  CLI::App app{"", "sy"};
  std::string controller;  // --controller
  // Set by the sub-command given; runs it once the controller's address is known.
  std::function<int(const ClientConfig&)> run;
  bool needs_controller = true;  // false for `sy help` and `sy version`

  SubmitOptions submit;
  QueueOptions queue;
  ShowOptions show;
  std::vector<std::string> cancel_ids;
  LogsOptions logs;
  bool nodes_json = false;
  NameOptions node_show;
  DrainOptions drain, resume;
  DatasetAddOptions dataset_add;
  bool dataset_list_json = false;
  NameOptions dataset_show;
  StageOptions stage;
  SlurmStartOptions slurm_start;
  TopOptions top;
  DashboardOptions dashboard;
};

}  // namespace sy::cli
