#pragma once
// `sy-agent stage --from SRC --to DST`: the stager on its own, from a directory to a directory,
// without a controller (benchmarks, pre-seeding a node's cache by hand, checking a copy). Its
// options are read in agent/command_line.cpp.

#include <string>

namespace sy::agent {

struct StageCommandOptions {
  std::string from, to, dataset_name, cache_dir, manifest_in, manifest_out, version;
  int parallel = 16;
  bool full_check = false;
};

int run_stage_command(const StageCommandOptions& options);

}  // namespace sy::agent
