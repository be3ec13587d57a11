#include "agent/nvml.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>

namespace sy::agent {
namespace {

// The few NVML declarations we use (nvml.h is not installed without the driver). Layouts follow
// NVML's public header; only pointers to opaque handles and plain structs cross the boundary.
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr unsigned kMaxNvlinks = 18;
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlPciInfo_t {
  char busIdLegacy[16];
  unsigned domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
};

struct Nvml {
  void* lib = nullptr;
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  nvmlReturn_t (*count)(unsigned*) = nullptr;
  nvmlReturn_t (*handle)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t*) = nullptr;
  nvmlReturn_t (*ancestor)(nvmlDevice_t, nvmlDevice_t, int*) = nullptr;
  nvmlReturn_t (*link_state)(nvmlDevice_t, unsigned, int*) = nullptr;
  nvmlReturn_t (*link_remote)(nvmlDevice_t, unsigned, nvmlPciInfo_t*) = nullptr;
  nvmlReturn_t (*minor)(nvmlDevice_t, unsigned*) = nullptr;
  ~Nvml() {
    if (shutdown) shutdown();
    if (lib) dlclose(lib);
  }
};

template <class F>
bool bind(void* lib, const char* symbol, F& out) {
  out = reinterpret_cast<F>(dlsym(lib, symbol));
  return out != nullptr;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

topo::Link link_from_level(int level) {
  if (level <= 10) return {topo::LinkKind::pix, 0};
  if (level <= 20) return {topo::LinkKind::pxb, 0};
  if (level <= 30) return {topo::LinkKind::phb, 0};
  if (level <= 40) return {topo::LinkKind::node, 0};
  return {topo::LinkKind::sys, 0};
}

}  // namespace

Result<NvmlFacts, std::string> read_nvml_facts() {
  Nvml n;
  n.lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!n.lib) return fail(std::string("NVML not available: ") + dlerror());
  if (!bind(n.lib, "nvmlInit_v2", n.init) || !bind(n.lib, "nvmlShutdown", n.shutdown) ||
      !bind(n.lib, "nvmlDeviceGetCount_v2", n.count) ||
      !bind(n.lib, "nvmlDeviceGetHandleByIndex_v2", n.handle) ||
      !bind(n.lib, "nvmlDeviceGetName", n.name) || !bind(n.lib, "nvmlDeviceGetUUID", n.uuid) ||
      !bind(n.lib, "nvmlDeviceGetMemoryInfo", n.memory) ||
      !bind(n.lib, "nvmlDeviceGetPciInfo_v3", n.pci) ||
      !bind(n.lib, "nvmlDeviceGetTopologyCommonAncestor", n.ancestor)) {
    return fail(std::string("NVML lacks a needed function: ") + dlerror());
  }
  // NVLink queries are optional: GPUs without NVLink have no such links to report.
  bind(n.lib, "nvmlDeviceGetNvLinkState", n.link_state);
  bind(n.lib, "nvmlDeviceGetNvLinkRemotePciInfo_v2", n.link_remote);
  bind(n.lib, "nvmlDeviceGetMinorNumber", n.minor);
  auto shutdown = n.shutdown;
  n.shutdown = nullptr;  // only after a successful init
  if (n.init() != kNvmlSuccess) return fail(std::string("nvmlInit failed (is the driver loaded?)"));
  n.shutdown = shutdown;
  unsigned count = 0;
  if (n.count(&count) != kNvmlSuccess || count == 0)
    return fail(std::string("NVML reports no GPUs"));
  NvmlFacts facts;
  std::vector<nvmlDevice_t> devices(count);
  for (unsigned i = 0; i < count; ++i) {
    if (n.handle(i, &devices[i]) != kNvmlSuccess)
      return fail("NVML: no handle for GPU " + std::to_string(i));
    NvmlGpuFacts g;
    char text[96] = {};
    if (n.name(devices[i], text, sizeof text) == kNvmlSuccess) g.name = text;
    if (n.uuid(devices[i], text, sizeof text) == kNvmlSuccess) g.uuid = text;
    nvmlMemory_t mem{};
    if (n.memory(devices[i], &mem) == kNvmlSuccess) g.memory_bytes = mem.total;
    nvmlPciInfo_t pci{};
    if (n.pci(devices[i], &pci) == kNvmlSuccess) g.pci_bus_id = upper(pci.busId);
    // The GPU's device file is /dev/nvidiaN with N its minor number, which need not be its index.
    unsigned minor = 0;
    if (n.minor && n.minor(devices[i], &minor) == kNvmlSuccess) {
      g.device = "/dev/nvidia" + std::to_string(minor);
    }
    facts.gpus.push_back(std::move(g));
  }
  facts.common_ancestor.assign(count, std::vector<int>(count, 0));
  for (unsigned a = 0; a < count; ++a) {
    for (unsigned b = 0; b < count; ++b) {
      int level = 50;
      if (a != b && n.ancestor(devices[a], devices[b], &level) == kNvmlSuccess) {
        facts.common_ancestor[a][b] = level;
      }
    }
    if (!n.link_state || !n.link_remote) continue;
    for (unsigned link = 0; link < kMaxNvlinks; ++link) {
      int active = 0;
      nvmlPciInfo_t remote{};
      if (n.link_state(devices[a], link, &active) != kNvmlSuccess || !active) continue;
      if (n.link_remote(devices[a], link, &remote) != kNvmlSuccess) continue;
      facts.gpus[a].nvlinks_to[upper(remote.busId)]++;
    }
  }
  // A link whose far end is no GPU of this node ends at an NVSwitch.
  for (auto& g : facts.gpus) {
    for (auto it = g.nvlinks_to.begin(); it != g.nvlinks_to.end();) {
      const bool to_gpu =
          std::any_of(facts.gpus.begin(), facts.gpus.end(),
                      [&](const NvmlGpuFacts& o) { return o.pci_bus_id == it->first; });
      if (to_gpu) {
        ++it;
      } else {
        g.nvlinks_to_switch += it->second;
        it = g.nvlinks_to.erase(it);
      }
    }
  }
  return facts;
}

topo::NodeTopology topology_from_nvml(const NvmlFacts& facts) {
  topo::NodeTopology node;
  const int count = static_cast<int>(facts.gpus.size());
  node.gpu_links.assign(count, std::vector<topo::Link>(count));
  for (int a = 0; a < count; ++a) {
    const NvmlGpuFacts& g = facts.gpus[a];
    topo::Gpu gpu;
    gpu.index = a;
    gpu.model = g.name;
    gpu.uuid = g.uuid;
    gpu.memory_mib = static_cast<std::int64_t>(g.memory_bytes >> 20);
    gpu.pci_bus_id = g.pci_bus_id;
    gpu.device = g.device;
    node.gpus.push_back(gpu);
    for (int b = 0; b < count; ++b) {
      if (a == b) continue;
      const NvmlGpuFacts& o = facts.gpus[b];
      int links = 0;
      if (auto it = g.nvlinks_to.find(o.pci_bus_id); it != g.nvlinks_to.end()) links = it->second;
      // Through NVSwitch every pair gets the smaller of the two GPUs' switch link counts,
      // which is how nvidia-smi reports NV18 on a DGX H100.
      if (links == 0 && g.nvlinks_to_switch > 0 && o.nvlinks_to_switch > 0) {
        links = std::min(g.nvlinks_to_switch, o.nvlinks_to_switch);
      }
      node.gpu_links[a][b] = links > 0 ? topo::Link{topo::LinkKind::nvlink, links}
                                       : link_from_level(facts.common_ancestor[a][b]);
    }
  }
  return node;
}

}  // namespace sy::agent
