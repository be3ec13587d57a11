#pragma once
// GPU facts from NVML, loaded at run time with dlopen("libnvidia-ml.so.1") so the agent starts
// (and falls back) on machines without a driver. read_nvml_facts does the I/O;
// topology_from_nvml turns facts into a NodeTopology and is what tests drive.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::agent {

struct NvmlGpuFacts {
  std::string name;
  std::string uuid;
  std::uint64_t memory_bytes = 0;
  std::string pci_bus_id;                 // "00000000:1B:00.0"
  std::map<std::string, int> nvlinks_to;  // remote PCI bus id -> active links to it
  int nvlinks_to_switch = 0;              // active links whose far end is not a GPU
  std::string device;                     // "/dev/nvidia3"; empty when NVML does not say
};

// NVML's nvmlGpuTopologyLevel_t, as numbers: 0 same board, 10 one PCIe switch, 20 several,
// 30 host bridge, 40 same NUMA node, 50 across the system interconnect.
struct NvmlFacts {
  std::vector<NvmlGpuFacts> gpus;
  std::vector<std::vector<int>> common_ancestor;  // [a][b]
};

Result<NvmlFacts, std::string> read_nvml_facts();
topo::NodeTopology topology_from_nvml(const NvmlFacts& facts);

}  // namespace sy::agent
