#pragma once
// sy-sim's options, defined once: the parser, --help, the completion script and the man page
// all come from here.

#include <cstdint>
#include <string>
#include <vector>

#include "common/command_line/command_line.hpp"
#include "controller/sim/simulator.hpp"
#include "controller/sim/synthetic_trace.hpp"

namespace sy::sim {

struct SimCommandLine {
  SimCommandLine();
  SimCommandLine(const SimCommandLine&) = delete;
  SimCommandLine& operator=(const SimCommandLine&) = delete;

  CLI::App app{"", "sy-sim"};
  std::string trace_file, cluster_file, model_file = "examples/sim/runtime-model.yaml",
                                        out_dir = "sim-out";
  std::vector<std::string> policies;  // empty: every policy
  SimOptions options;
  int backfill_depth = 1000;
  std::int64_t tier0_mib = 0;  // 0: the cluster file's
  bool synthetic = false;
  SyntheticSpec spec;
};

}  // namespace sy::sim
