#pragma once
// Reads the matrix `nvidia-smi topo -m` prints into a NodeTopology: GPUs, NICs (named by the
// NIC Legend when present), the link class of every GPU pair and NIC-GPU pair, and NUMA
// placement. Handles the old (CPU Affinity only), mid (NUMA Affinity) and new (GPU NUMA ID,
// NICn columns) layouts, tab- or space-separated.
//
// Where the output does not say, NUMA placement is inferred: without a NUMA Affinity column,
// GPUs sharing a CPU Affinity set share a NUMA node; a NIC shares the NUMA node of any GPU it
// reaches without crossing the socket interconnect (a link other than SYS).

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/spec_error.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::topo {

// `file` names the source in errors. Malformed input gives file:line:col and what is wrong.
Result<NodeTopology, SpecError> parse_nvidia_smi_topo(std::string_view text,
                                                      const std::string& file);

}  // namespace sy::topo
