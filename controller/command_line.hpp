#pragma once
// sy-controller's options, defined once: the parser, --help, the completion script and the man
// page all come from here.

#include <string>

#include "common/command_line/command_line.hpp"

namespace sy::controller {

struct ControllerCommandLine {
  ControllerCommandLine();
  ControllerCommandLine(const ControllerCommandLine&) = delete;
  ControllerCommandLine& operator=(const ControllerCommandLine&) = delete;

  CLI::App app{"", "sy-controller"};
  std::string config_path, listen, state_dir, port_file, log_level, tls_ca, tls_cert, tls_key;
  bool check_only = false, insecure = false;
};

}  // namespace sy::controller
