#pragma once
// run_controller: wires the store, the commit queue and the API server together and serves
// until SIGTERM or SIGINT. All process-level effects (files, sockets, signals) happen here.

#include <functional>
#include <string>

#include "controller/config.hpp"

namespace sy::controller {

struct RunOptions {
  std::string port_file;  // when set, the bound port is written here once listening
  // SIGHUP: reads the configuration again (file, then flags); unset: nothing to reload.
  std::function<Result<ControllerConfig, std::string>()> reload;
};

// Returns the process exit code.
int run_controller(const ControllerConfig& config, const RunOptions& options);

}  // namespace sy::controller
