#pragma once
// The `sy` sub-commands. Each returns the process exit code: 0 done, 1 failed, 2 usage error.

#include <string>
#include <vector>

#include "cli/client_config.hpp"

namespace sy::cli {

struct Invocation {
  ClientConfig config;
  std::vector<std::string> args;  // after the sub-command name
};

int cmd_submit(const Invocation& inv);
int cmd_queue(const Invocation& inv);
int cmd_show(const Invocation& inv);
int cmd_cancel(const Invocation& inv);
int cmd_logs(const Invocation& inv);  // logs ID [-f] [--rank R]
int cmd_nodes(const Invocation& inv);
int cmd_node(const Invocation& inv);  // node show NAME
int cmd_drain(const Invocation& inv);
int cmd_resume(const Invocation& inv);
int cmd_dataset(const Invocation& inv);  // dataset add|list|show
int cmd_stage(const Invocation& inv);
int cmd_slurm_start(const Invocation& inv);  // slurm-start [OPTIONS] -- COMMAND
int cmd_top(const Invocation& inv);          // top [--interval S] [--once]
int cmd_dashboard(const Invocation& inv);    // dashboard [--ttl DURATION] [--json]

}  // namespace sy::cli
