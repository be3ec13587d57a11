#pragma once
// What this node has: the matrix from `nvidia-smi topo -m` (links, NICs, NUMA), with each GPU's
// identity (model, UUID, memory, PCI address) from NVML when the driver is there; NVML alone
// when nvidia-smi is missing; then sockets, NUMA CPU lists, NIC and NVMe locality from hwloc.
// Without nvidia-smi or NVML, the error says so and points at --topology.

#include <string>

#include "common/result.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::agent {

Result<topo::NodeTopology, std::string> discover_topology();

// Combines the two sources: links, NICs and NUMA from `smi`, identity from `nvml`
// (matched by index; counts must agree). Pure, for tests.
Result<topo::NodeTopology, std::string> merge_discovery(const topo::NodeTopology& smi,
                                                        const topo::NodeTopology& nvml);

}  // namespace sy::agent
