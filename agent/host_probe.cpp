#include "agent/host_probe.hpp"

#include <hwloc.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace sy::agent {
namespace {

std::string pci_id(const hwloc_obj_t pci) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04X:%02X:%02X.%X", pci->attr->pcidev.domain,
                pci->attr->pcidev.bus, pci->attr->pcidev.dev, pci->attr->pcidev.func);
  return buf;
}

// "00000000:1B:00.0" (NVML) and "0000:1b:00.0" (sysfs) name the same device.
std::string normal_pci(std::string id) {
  std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::toupper(c); });
  if (id.size() > 12) id = id.substr(id.size() - 12);
  return id;
}

std::optional<int> numa_of(hwloc_topology_t topo, hwloc_obj_t obj) {
  hwloc_obj_t ancestor = hwloc_get_non_io_ancestor_obj(topo, obj);
  if (!ancestor || !ancestor->nodeset) return std::nullopt;
  const int first = hwloc_bitmap_first(ancestor->nodeset);
  // A device whose locality spans every NUMA node says nothing about placement.
  if (first < 0 || hwloc_bitmap_weight(ancestor->nodeset) != 1) return std::nullopt;
  return first;
}

}  // namespace

Result<HostFacts, std::string> read_host_facts() {
  hwloc_topology_t topo = nullptr;
  if (hwloc_topology_init(&topo) != 0) return fail(std::string("hwloc: init failed"));
  std::unique_ptr<hwloc_topology, void (*)(hwloc_topology_t)> guard(topo, hwloc_topology_destroy);
  // PCI and OS devices are dropped unless asked for.
  hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  // On Linux hwloc reads PCI devices from sysfs itself; its libpciaccess plugin (installed with
  // Open MPI's packages) finds the same devices and leaks what libpciaccess allocates.
  hwloc_topology_set_components(topo, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "pci");
  if (hwloc_topology_load(topo) != 0) return fail(std::string("hwloc: cannot read the topology"));

  HostFacts facts;
  facts.sockets = std::max(1, hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE));
  // The CPUs the agent may use (its cpuset: what it can give jobs), and the memory there is.
  facts.cpus = hwloc_bitmap_weight(hwloc_topology_get_allowed_cpuset(topo));
  facts.memory_mib =
      static_cast<std::int64_t>(hwloc_get_root_obj(topo)->total_memory / (1024 * 1024));
  const int numa_count = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < numa_count; ++i) {
    hwloc_obj_t numa = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(i));
    char* cpus = nullptr;
    hwloc_bitmap_list_asprintf(&cpus, numa->cpuset);
    facts.numa_nodes.push_back({static_cast<int>(numa->os_index), cpus ? cpus : ""});
    std::free(cpus);
  }
  for (hwloc_obj_t pci = hwloc_get_next_pcidev(topo, nullptr); pci;
       pci = hwloc_get_next_pcidev(topo, pci)) {
    if (auto numa = numa_of(topo, pci)) facts.numa_of_pci[pci_id(pci)] = *numa;
  }
  std::vector<HostDevice> ethernet;
  for (hwloc_obj_t dev = hwloc_get_next_osdev(topo, nullptr); dev;
       dev = hwloc_get_next_osdev(topo, dev)) {
    HostDevice d;
    d.name = dev->name ? dev->name : "";
    d.numa = numa_of(topo, dev);
    if (dev->parent && dev->parent->type == HWLOC_OBJ_PCI_DEVICE)
      d.pci_bus_id = pci_id(dev->parent);
    switch (dev->attr->osdev.type) {
      case HWLOC_OBJ_OSDEV_OPENFABRICS:
        facts.nics.push_back(d);
        break;
      case HWLOC_OBJ_OSDEV_NETWORK:
        ethernet.push_back(d);
        break;
      case HWLOC_OBJ_OSDEV_BLOCK:
        if (d.name.rfind("nvme", 0) == 0) {
          if (const char* size = hwloc_obj_get_info_by_name(dev, "Size")) {
            d.size_mib = std::atoll(size) / 1024;  // hwloc gives KiB
          }
          facts.nvme.push_back(d);
        }
        break;
      default:
        break;
    }
  }
  // RDMA devices are what NCCL uses across nodes; plain interfaces matter only without them.
  if (facts.nics.empty()) facts.nics = ethernet;
  return facts;
}

void apply_host_facts(topo::NodeTopology& node, const HostFacts& facts) {
  if (node.numa_nodes.empty()) {
    node.numa_nodes = facts.numa_nodes;
  } else {
    for (auto& n : node.numa_nodes) {
      for (const auto& f : facts.numa_nodes) {
        if (f.id == n.id && n.cpus.empty()) n.cpus = f.cpus;
      }
    }
  }
  node.sockets = std::max(node.sockets, facts.sockets);
  if (node.cpus == 0 && facts.cpus > 0) node.cpus = facts.cpus;
  if (node.memory_mib == 0) node.memory_mib = facts.memory_mib;
  for (auto& g : node.gpus) {
    if (g.numa || g.pci_bus_id.empty()) continue;
    if (auto it = facts.numa_of_pci.find(normal_pci(g.pci_bus_id)); it != facts.numa_of_pci.end()) {
      g.numa = it->second;
    }
  }
  for (auto& nic : node.nics) {
    for (const auto& d : facts.nics) {
      if (d.name != nic.name) continue;
      if (nic.pci_bus_id.empty()) nic.pci_bus_id = d.pci_bus_id;
      if (!nic.numa) nic.numa = d.numa;
    }
  }
  if (node.nvme.empty()) {
    for (const auto& d : facts.nvme)
      node.nvme.push_back({d.name, d.numa, d.size_mib});
  }
}

}  // namespace sy::agent
