#pragma once
// sy-trace-convert's options, defined once: the parser, --help, the completion script and the
// man page all come from here.

#include <string>

#include "common/command_line/command_line.hpp"

namespace sy::sim {

struct ConvertCommandLine {
  ConvertCommandLine();
  ConvertCommandLine(const ConvertCommandLine&) = delete;
  ConvertCommandLine& operator=(const ConvertCommandLine&) = delete;

  CLI::App app{"", "sy-trace-convert"};
  std::string format, input, output;
};

}  // namespace sy::sim
