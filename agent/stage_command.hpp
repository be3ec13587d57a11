#pragma once
// `sy-agent stage --from SRC --to DST`: the stager on its own, from a directory to a directory,
// without a controller (benchmarks, pre-seeding a node's cache by hand, checking a copy).

namespace sy::agent {

int run_stage_command(int argc, char** argv);  // argv[0] is "stage"

}  // namespace sy::agent
