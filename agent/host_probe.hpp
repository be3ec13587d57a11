#pragma once
// What hwloc knows about the host beyond the GPUs: sockets, NUMA nodes and their CPUs, network
// and InfiniBand devices, NVMe (block) devices, and which NUMA node each PCI device hangs off.
// read_host_facts does the I/O; apply_host_facts merges facts into a topology and is pure.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::agent {

struct HostDevice {
  std::string name;  // "mlx5_0", "eth0", "nvme0n1"
  std::string pci_bus_id;
  std::optional<int> numa;
  std::int64_t size_mib = 0;  // block devices
};

struct HostFacts {
  int sockets = 1;
  int cpus = 0;                 // logical CPUs this process may run on
  std::int64_t memory_mib = 0;  // the machine's memory
  std::vector<topo::NumaNode> numa_nodes;
  std::vector<HostDevice> nics;  // InfiniBand/RoCE devices, else network interfaces
  std::vector<HostDevice> nvme;
  std::map<std::string, int> numa_of_pci;  // upper-case "DDDD:BB:DD.F" -> NUMA node
};

Result<HostFacts, std::string> read_host_facts();

// Fills what the GPU-side sources leave out: socket count and NUMA CPU lists; the NUMA node of
// GPUs by PCI address; PCI address and NUMA node of NICs matched by name; NVMe devices. Never
// overrides a value the topology already has.
void apply_host_facts(topo::NodeTopology& node, const HostFacts& facts);

}  // namespace sy::agent
