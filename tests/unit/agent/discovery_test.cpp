// GPU discovery without a GPU: NVML facts as a driver would report them, turned into topology.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/discovery.hpp"
#include "agent/host_probe.hpp"
#include "agent/nvml.hpp"
#include "common/topology/nvidia_smi_topo.hpp"
#include "tests/support/skip.hpp"

using namespace sy;
using namespace sy::agent;

namespace {
std::string bus(int i) {
  return "00000000:" + std::to_string(10 + i) + ":00.0";
}
}  // namespace

TEST_CASE("NVSwitch systems: every pair gets the switch link count", "[discovery]") {
  NvmlFacts facts;
  for (int i = 0; i < 8; ++i) {
    NvmlGpuFacts g{
        "NVIDIA H100 80GB HBM3", "GPU-" + std::to_string(i), 80ull << 30, bus(i), {}, 18, ""};
    facts.gpus.push_back(g);
  }
  facts.common_ancestor.assign(8, std::vector<int>(8, 50));
  auto node = topology_from_nvml(facts);
  REQUIRE(node.gpu_count() == 8);
  CHECK(node.link(0, 7).name() == "NV18");
  CHECK(node.gpus[3].memory_mib == 80 * 1024);
  CHECK(node.gpus[3].uuid == "GPU-3");
}

TEST_CASE("direct NVLinks count per peer, other pairs follow the PCIe ancestor", "[discovery]") {
  NvmlFacts facts;
  for (int i = 0; i < 4; ++i)
    facts.gpus.push_back({"V100", "", 16ull << 30, bus(i), {}, 0, ""});
  facts.gpus[0].nvlinks_to[bus(1)] = 2;
  facts.gpus[1].nvlinks_to[bus(0)] = 2;
  facts.common_ancestor = {{0, 10, 30, 50}, {10, 0, 30, 50}, {30, 30, 0, 40}, {50, 50, 40, 0}};
  auto node = topology_from_nvml(facts);
  CHECK(node.link(0, 1).name() == "NV2");
  CHECK(node.link(0, 2).name() == "PHB");
  CHECK(node.link(2, 3).name() == "NODE");
  CHECK(node.link(1, 3).name() == "SYS");
}

TEST_CASE("nvidia-smi supplies links, NICs and NUMA, and NVML supplies identity", "[discovery]") {
  auto smi = topo::parse_nvidia_smi_topo(
      "\tGPU0\tGPU1\tNIC0\tCPU Affinity\tNUMA Affinity\n"
      "GPU0\t X \tNV4\tPIX\t0-7\t0\nGPU1\tNV4\t X \tPIX\t0-7\t0\nNIC0\tPIX\tPIX\t X \n\n"
      "NIC Legend:\n\n  NIC0: mlx5_0\n",
      "smi");
  REQUIRE(smi.ok());
  NvmlFacts facts;
  facts.gpus = {{"A6000", "GPU-a", 48ull << 30, bus(0), {}, 0, "/dev/nvidia0"},
                {"A6000", "GPU-b", 48ull << 30, bus(1), {}, 0, "/dev/nvidia1"}};
  facts.common_ancestor = {{0, 10}, {10, 0}};
  auto merged = merge_discovery(smi.value(), topology_from_nvml(facts));
  REQUIRE(merged.ok());
  CHECK(merged->link(0, 1).name() == "NV4");
  CHECK(merged->nics.at(0).name == "mlx5_0");
  CHECK(merged->gpus[1].uuid == "GPU-b");
  CHECK(merged->gpus[1].numa == 0);
  CHECK(merged->gpus[1].device == "/dev/nvidia1");  // from NVML's minor number
  facts.gpus.pop_back();
  CHECK(merge_discovery(smi.value(), topology_from_nvml(facts)).error() ==
        "nvidia-smi shows 2 GPUs but NVML 1");
}

TEST_CASE("without a driver, discovery says what is missing", "[discovery]") {
  auto found = discover_topology();
  if (found.ok())
    SY_SKIP("this machine has NVIDIA GPUs (" + std::to_string(found->gpu_count()) +
            "): scripts/gpu-discovery checks them");
  CHECK(found.error().find("give --topology FILE") != std::string::npos);
  CHECK(found.error().find("NVML not available") != std::string::npos);
}

TEST_CASE("hwloc reads this host", "[discovery][hwloc]") {
  auto host = read_host_facts();
  REQUIRE(host.ok());
  CHECK(host->sockets >= 1);
  // What jobs may use: the CPUs this process may run on, and the machine's memory.
  CHECK(host->cpus >= 1);
  CHECK(host->cpus <= static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  CHECK(host->memory_mib > 64);
  REQUIRE_FALSE(host->numa_nodes.empty());
  CHECK_FALSE(host->numa_nodes[0].cpus.empty());
}

TEST_CASE("host facts fill what the GPU sources leave out, and override nothing", "[discovery]") {
  topo::NodeTopology node;
  node.gpus = {{0, "A", "", 0, "00000000:1B:00.0", std::nullopt, "", ""},
               {1, "A", "", 0, "00000000:9C:00.0", 1, "", ""}};
  node.gpu_links = {{{}, {topo::LinkKind::sys, 0}}, {{topo::LinkKind::sys, 0}, {}}};
  node.nics = {{"mlx5_0", std::nullopt, "", 0, ""}};
  node.nic_links = {{{topo::LinkKind::pix, 0}, {topo::LinkKind::sys, 0}}};
  HostFacts facts;
  facts.sockets = 2;
  facts.cpus = 32;
  facts.memory_mib = 256 * 1024;
  facts.numa_nodes = {{0, "0-15"}, {1, "16-31"}};
  facts.numa_of_pci = {{"0000:1B:00.0", 0}, {"0000:9C:00.0", 0}};
  facts.nics = {{"mlx5_0", "0000:1A:00.0", 0, 0}, {"mlx5_9", "0000:9D:00.0", 1, 0}};
  facts.nvme = {{"nvme0n1", "0000:3D:00.0", 0, 3662830}};
  apply_host_facts(node, facts);
  CHECK(node.sockets == 2);
  CHECK(node.cpus == 32);
  CHECK(node.memory_mib == 256 * 1024);
  CHECK(node.numa_nodes.size() == 2);
  CHECK(node.gpus[0].numa == 0);  // found by PCI address, whatever its spelling
  CHECK(node.gpus[1].numa == 1);  // kept: nvidia-smi already said
  CHECK(node.nics[0].numa == 0);
  CHECK(node.nics[0].pci_bus_id == "0000:1A:00.0");
  REQUIRE(node.nvme.size() == 1);
  CHECK(node.nvme[0].capacity_mib == 3662830);
}
