#pragma once
// NodeTopology: one node as placement sees it: NUMA nodes, GPUs, NICs, NVMe devices and
// node-local ("Tier-0") storage, with the link class between every GPU pair and between every
// NIC and GPU. Agents discover it (or read a fixture); the controller keeps a copy.

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/topology/link.hpp"

namespace sy::topo {

struct NumaNode {
  int id = 0;
  std::string cpus;  // cpulist, e.g. "0-19,40-59"
  bool operator==(const NumaNode&) const = default;
};

struct Gpu {
  int index = 0;
  std::string model;
  std::string uuid;
  std::int64_t memory_mib = 0;
  std::string pci_bus_id;
  std::optional<int> numa;
  std::string pcie_switch;  // id of the PCIe switch it hangs off, when known
  // Its device file (/dev/nvidiaN): what a job's device cgroup lets through or not.
  std::string device;
  bool operator==(const Gpu&) const = default;
};

struct Nic {
  std::string name;  // e.g. mlx5_0
  std::optional<int> numa;
  std::string pci_bus_id;
  double speed_gbps = 0;
  std::string pcie_switch;
  bool operator==(const Nic&) const = default;
};

struct Nvme {
  std::string name;
  std::optional<int> numa;
  std::int64_t capacity_mib = 0;
  bool operator==(const Nvme&) const = default;
};

struct Tier0 {
  std::string path;
  std::int64_t capacity_mib = 0;
  bool operator==(const Tier0&) const = default;
};

struct NodeTopology {
  std::string name;
  int sockets = 1;
  // What jobs may use of the node's CPUs (logical) and memory; 0: not known, and then jobs'
  // cpus_per_gpu and memory_per_gpu are not counted against it.
  int cpus = 0;
  std::int64_t memory_mib = 0;
  std::vector<NumaNode> numa_nodes;
  std::vector<Gpu> gpus;  // gpus[i].index == i
  std::vector<Nic> nics;
  std::vector<Nvme> nvme;
  std::vector<Tier0> tier0;
  std::vector<std::string> features;         // sorted; declared by the administrator
  std::vector<std::vector<Link>> gpu_links;  // [a][b], a != b; symmetric
  std::vector<std::vector<Link>> nic_links;  // [nic][gpu]

  int gpu_count() const { return static_cast<int>(gpus.size()); }
  const Link& link(int a, int b) const { return gpu_links[a][b]; }
  // The NIC closest to `gpu` (ties: lowest index); nullopt when the node has no NIC.
  std::optional<int> nearest_nic(int gpu) const;
  bool operator==(const NodeTopology&) const = default;
};

inline constexpr double kUnlimitedGbps = std::numeric_limits<double>::infinity();

// The bottleneck bandwidth (GB/s) of the best ring through `gpus`: the highest, over every
// cyclic order, of the slowest link in that order. One GPU has no ring: kUnlimitedGbps.
double ring_bottleneck_gbps(const NodeTopology& node, std::span<const int> gpus);

// Sum of the bandwidth of every pair in `gpus`: tells apart subsets whose rings tie (a fully
// NVLink-connected quad beats a quad that only has an NVLink ring).
double pairwise_bandwidth_gbps(const NodeTopology& node, std::span<const int> gpus);

// The `count` GPUs among `candidates` with the best ring (then pairwise bandwidth, then the
// lexicographically smallest indices). Empty if there are fewer candidates than `count`.
std::vector<int> best_ring_subset(const NodeTopology& node, std::span<const int> candidates,
                                  int count);

}  // namespace sy::topo
