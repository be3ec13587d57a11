#include "agent/discovery.hpp"

#include <cstdio>
#include <memory>

#include "agent/host_probe.hpp"
#include "agent/nvml.hpp"
#include "common/topology/nvidia_smi_topo.hpp"

namespace sy::agent {
namespace {

Result<std::string, std::string> run_nvidia_smi_topo() {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen("nvidia-smi topo -m 2>/dev/null", "r"),
                                             ::pclose);
  if (!pipe) return fail(std::string("cannot run nvidia-smi"));
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe.get()))
    out.append(buf, n);
  const int status = ::pclose(pipe.release());
  if (status != 0 || out.empty())
    return fail(std::string("`nvidia-smi topo -m` failed or is not installed"));
  return out;
}

}  // namespace

Result<topo::NodeTopology, std::string> merge_discovery(const topo::NodeTopology& smi,
                                                        const topo::NodeTopology& nvml) {
  if (smi.gpus.size() != nvml.gpus.size()) {
    return fail("nvidia-smi shows " + std::to_string(smi.gpus.size()) + " GPUs but NVML " +
                std::to_string(nvml.gpus.size()));
  }
  topo::NodeTopology node = smi;
  for (std::size_t i = 0; i < node.gpus.size(); ++i) {
    node.gpus[i].model = nvml.gpus[i].model;
    node.gpus[i].uuid = nvml.gpus[i].uuid;
    node.gpus[i].memory_mib = nvml.gpus[i].memory_mib;
    node.gpus[i].pci_bus_id = nvml.gpus[i].pci_bus_id;
    node.gpus[i].device = nvml.gpus[i].device;
  }
  return node;
}

Result<topo::NodeTopology, std::string> discover_topology() {
  auto facts = read_nvml_facts();
  auto smi_text = run_nvidia_smi_topo();
  std::optional<topo::NodeTopology> smi;
  if (smi_text) {
    auto parsed = topo::parse_nvidia_smi_topo(smi_text.value(), "nvidia-smi topo -m");
    if (!parsed) return fail(parsed.error().to_string());
    smi = std::move(parsed).value();
  }
  std::optional<topo::NodeTopology> node;
  if (facts && smi) {
    auto merged = merge_discovery(*smi, topology_from_nvml(facts.value()));
    if (!merged) return merged;
    node = std::move(merged).value();
  } else if (facts) {
    node = topology_from_nvml(facts.value());
  } else if (smi) {
    node = std::move(smi);
  }
  if (node) {
    // hwloc is best-effort: a node without it still has its GPU links.
    if (auto host = read_host_facts()) apply_host_facts(*node, host.value());
    return *node;
  }
  return fail("no NVIDIA GPU found (" + facts.error() + "; " + smi_text.error() +
              "): give --topology FILE to present a topology instead");
}

}  // namespace sy::agent
