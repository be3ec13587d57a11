// Every real `nvidia-smi topo -m` capture in tests/data/nvidia-smi (copied from public sources,
// see tests/data/README.md) parses, with assertions per file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/topology/nvidia_smi_topo.hpp"
#include "tests/support/controller_fixture.hpp"

using namespace sy;
using namespace sy::topo;

namespace {

std::string captures_dir() {
  return test::source_dir() + "/tests/data/nvidia-smi";
}

NodeTopology parse_capture(const std::string& prefix) {
  for (const auto& e : std::filesystem::directory_iterator(captures_dir())) {
    const std::string name = e.path().filename();
    if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".txt") {
      std::ifstream in(e.path());
      std::stringstream text;
      text << in.rdbuf();
      auto node = parse_nvidia_smi_topo(text.str(), name);
      INFO(name);
      REQUIRE(node.ok());
      return node.value();
    }
  }
  FAIL("no capture starting with " << prefix);
  return {};
}

std::string link(const NodeTopology& n, int a, int b) {
  return n.link(a, b).name();
}
std::string nic_link(const NodeTopology& n, int nic, int gpu) {
  return n.nic_links[nic][gpu].name();
}
std::string nearest_nic_name(const NodeTopology& n, int gpu) {
  auto nic = n.nearest_nic(gpu);
  return nic ? n.nics[*nic].name : "none";
}

}  // namespace

TEST_CASE("real nvidia-smi topo -m captures parse", "[topology][nvidia-smi]") {
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(captures_dir())) {
    if (e.path().extension() == ".txt") ++files;
  }
  CHECK(files == 12);  // a new capture needs its own assertions below

  SECTION("01 DGX-1 V100 cube-mesh, old format, 1 NIC") {
    auto n = parse_capture("01_");
    CHECK(n.gpu_count() == 8);
    CHECK(link(n, 0, 1) == "NV1");
    CHECK(link(n, 0, 3) == "NV2");
    CHECK(link(n, 0, 5) == "SYS");
    CHECK(link(n, 6, 7) == "NV2");
    REQUIRE(n.nics.size() == 1);
    CHECK(n.nics[0].name == "mlx5_0");
    CHECK(nic_link(n, 0, 2) == "PIX");
    CHECK(nic_link(n, 0, 0) == "NODE");
    CHECK(nearest_nic_name(n, 3) == "mlx5_0");
    // No NUMA column: GPUs sharing a CPU Affinity set share a NUMA node.
    CHECK(n.gpus[0].numa == 0);
    CHECK(n.gpus[4].numa == 1);
    CHECK(n.numa_nodes.size() == 2);
    CHECK(n.numa_nodes[1].cpus == "12-23,36-47");
    CHECK(n.nics[0].numa == 0);
  }
  SECTION("02 8x A100 NVSwitch with 17 NICs and a NIC Legend") {
    auto n = parse_capture("02_");
    CHECK(n.gpu_count() == 8);
    for (int a = 0; a < 8; ++a) {
      for (int b = 0; b < 8; ++b) {
        if (a != b) CHECK(link(n, a, b) == "NV12");
      }
    }
    REQUIRE(n.nics.size() == 17);
    CHECK(n.nics[0].name == "mlx5_2");
    CHECK(n.nics[16].name == "mlx5_bond_0");
    CHECK(nic_link(n, 0, 0) == "PXB");
    CHECK(nic_link(n, 4, 2) == "PXB");
    CHECK(nic_link(n, 16, 7) == "SYS");
    CHECK(nearest_nic_name(n, 2) == "mlx5_6");
    CHECK(nearest_nic_name(n, 7) == "mlx5_14");
    CHECK(n.gpus[7].numa == 0);
  }
  SECTION("03 8x H100 NVSwitch, NUMA column, no NICs") {
    auto n = parse_capture("03_");
    CHECK(n.gpu_count() == 8);
    CHECK(link(n, 3, 4) == "NV18");
    CHECK(n.nics.empty());
    CHECK(nearest_nic_name(n, 0) == "none");
    CHECK(n.gpus[3].numa == 0);
    CHECK(n.gpus[4].numa == 1);
    REQUIRE(n.numa_nodes.size() == 2);
    CHECK(n.numa_nodes[1].cpus == "52-103,156-207");
  }
  SECTION("04 4x RTX 6000 Ada on 2 NUMA nodes with 4 NICs") {
    auto n = parse_capture("04_");
    CHECK(n.gpu_count() == 4);
    CHECK(link(n, 0, 1) == "NODE");
    CHECK(link(n, 1, 2) == "SYS");
    REQUIRE(n.nics.size() == 4);
    CHECK(n.nics[3].name == "mlx5_3");
    CHECK(nearest_nic_name(n, 0) == "mlx5_0");
    CHECK(nearest_nic_name(n, 3) == "mlx5_2");
    CHECK(n.nics[2].numa == 1);
    CHECK(n.gpus[2].numa == 1);
  }
  SECTION("05 8x RTX 4090, tab-separated, NICs without a legend") {
    auto n = parse_capture("05_");
    CHECK(n.gpu_count() == 8);
    CHECK(link(n, 0, 7) == "SYS");
    REQUIRE(n.nics.size() == 2);
    CHECK(n.nics[0].name == "NIC0");
    CHECK(nic_link(n, 0, 6) == "PHB");
    CHECK(nic_link(n, 1, 6) == "PHB");
    CHECK(nearest_nic_name(n, 6) == "NIC0");
    CHECK(n.nics[0].numa == 1);
    CHECK(n.gpus[4].numa == 1);
    CHECK(n.gpus[3].numa == 0);
  }
  SECTION("06 4x T4, old format, SYS and NODE") {
    auto n = parse_capture("06_");
    CHECK(n.gpu_count() == 4);
    CHECK(link(n, 0, 1) == "SYS");
    CHECK(link(n, 1, 2) == "NODE");
    CHECK(link(n, 2, 3) == "NODE");
    CHECK(n.nics.empty());
    CHECK(n.gpus[0].numa == 0);
    CHECK(n.gpus[1].numa == 1);
    CHECK(n.gpus[3].numa == 1);
  }
  SECTION("07 4x A10, all SYS, 2 NICs") {
    auto n = parse_capture("07_");
    CHECK(n.gpu_count() == 4);
    CHECK(link(n, 0, 3) == "SYS");
    REQUIRE(n.nics.size() == 2);
    CHECK(n.nics[1].name == "mlx5_1");
    CHECK(nic_link(n, 1, 0) == "SYS");
    CHECK_FALSE(n.nics[0].numa.has_value());  // every NIC-GPU path crosses the sockets
  }
  SECTION("08 5 GPUs on two sockets: PHB pairs, NODE and SYS") {
    auto n = parse_capture("08_");
    CHECK(n.gpu_count() == 5);
    CHECK(link(n, 1, 2) == "PHB");
    CHECK(link(n, 3, 4) == "PHB");
    CHECK(link(n, 1, 3) == "NODE");
    CHECK(link(n, 0, 4) == "SYS");
    CHECK(n.gpus[0].numa == 1);
    CHECK(n.gpus[1].numa == 0);
    CHECK(n.nics.empty());
  }
  SECTION("09 2 GPUs joined by NV2, NUMA N/A") {
    auto n = parse_capture("09_");
    CHECK(n.gpu_count() == 2);
    CHECK(link(n, 0, 1) == "NV2");
    // NUMA Affinity N/A: the CPU list is kept and the node derived from it.
    CHECK(n.gpus[0].numa == 0);
    CHECK(n.gpus[1].numa == 0);
    REQUIRE(n.numa_nodes.size() == 1);
    CHECK(n.numa_nodes[0].cpus == "0-23");
    CHECK(n.sockets == 1);
  }
  SECTION("10 2x RTX 5090, tab-separated, PHB") {
    auto n = parse_capture("10_");
    CHECK(n.gpu_count() == 2);
    CHECK(link(n, 1, 0) == "PHB");
    CHECK(n.gpus[1].numa == 0);
  }
  SECTION("11 2x GTX 1080 Ti, PHB") {
    auto n = parse_capture("11_");
    CHECK(n.gpu_count() == 2);
    CHECK(link(n, 0, 1) == "PHB");
    CHECK(n.nics.empty());
  }
  SECTION("12 2 GPUs, PHB, 2 NICs at NODE") {
    auto n = parse_capture("12_");
    CHECK(n.gpu_count() == 2);
    CHECK(link(n, 0, 1) == "PHB");
    REQUIRE(n.nics.size() == 2);
    CHECK(n.nics[0].name == "mlx5_0");
    CHECK(nic_link(n, 1, 1) == "NODE");
    CHECK(nearest_nic_name(n, 1) == "mlx5_0");
    CHECK(n.nics[1].numa == 0);
  }
}

TEST_CASE("malformed nvidia-smi output gets a clear error, never a crash",
          "[topology][nvidia-smi]") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "topo.txt:1:1: no header line starting with GPU0: is this `nvidia-smi topo -m` output?"},
      {"hello world\n",
       "topo.txt:1:1: no header line starting with GPU0: is this `nvidia-smi topo -m` output?"},
      {"\tGPU0\tGPU1\nGPU0\t X \tNV9X\nGPU1\tNV1\t X \n",
       "topo.txt:2:10: 'NV9X' is not a link class (NV#, PIX, PXB, PHB, NODE, SYS)"},
      {"\tGPU0\tGPU1\nGPU0\t X \tNV1\n", "topo.txt:1:1: no row for GPU1"},
      {"\tGPU0\tGPU1\nGPU0\t X \nGPU1\tNV1\t X \n",
       "topo.txt:2:7: row GPU0 has 1 link cells, expected 2"},
      {"\tGPU0\tGPU1\nGPU0\tNV1\tNV1\nGPU1\tNV1\t X \n",
       "topo.txt:2:6: expected X on the diagonal, found 'NV1'"},
      {"\tGPU0\tGPU1\nGPU0\t X \tNV1\nGPU1\tNV2\t X \n",
       "topo.txt:1:1: GPU0-GPU1 is NV1 one way and NV2 the other"},
      {"\tGPU0\tGPU2\nGPU0\t X \tNV1\nGPU2\tNV1\t X \n",
       "topo.txt:1:1: GPU columns must run GPU0..GPU1 in order"},
      {"\tGPU0\tGPU1\nGPU0\t X \tNV1\nGPU7\tNV1\t X \n",
       "topo.txt:3:1: row 'GPU7' is not a column of the header"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto r = parse_nvidia_smi_topo(c.text, "topo.txt");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().to_string() == c.error);
  }
}

// Inputs written for these regressions (not captures): NUMA Affinity N/A on every row.
TEST_CASE("NUMA Affinity N/A keeps the CPU list and derives the NUMA node from it",
          "[topology][nvidia-smi]") {
  SECTION("GPUs on disjoint CPU sets are two NUMA nodes, not one socket") {
    const std::string text =
        "\tGPU0\tGPU1\tGPU2\tGPU3\tCPU Affinity\tNUMA Affinity\n"
        "GPU0\t X \tNV4\tSYS\tSYS\t0-15,32-47\tN/A\n"
        "GPU1\tNV4\t X \tSYS\tSYS\t0-15,32-47\tN/A\n"
        "GPU2\tSYS\tSYS\t X \tNV4\t16-31,48-63\tN/A\n"
        "GPU3\tSYS\tSYS\tNV4\t X \t16-31,48-63\tN/A\n";
    auto n = parse_nvidia_smi_topo(text, "na.txt");
    REQUIRE(n.ok());
    CHECK(n->gpus[0].numa == n->gpus[1].numa);
    CHECK(n->gpus[2].numa == n->gpus[3].numa);
    CHECK(n->gpus[0].numa != n->gpus[2].numa);
    REQUIRE(n->numa_nodes.size() == 2);
    CHECK(n->numa_nodes[0].cpus == "0-15,32-47");
    CHECK(n->numa_nodes[1].cpus == "16-31,48-63");
    CHECK(n->sockets == 2);
  }
  SECTION("an N/A row joins the numbered row with its CPU list") {
    const std::string text =
        "\tGPU0\tGPU1\tGPU2\tCPU Affinity\tNUMA Affinity\n"
        "GPU0\t X \tPHB\tSYS\t0-7\t1\n"
        "GPU1\tPHB\t X \tSYS\t0-7\tN/A\n"
        "GPU2\tSYS\tSYS\t X \t8-15\tN/A\n";
    auto n = parse_nvidia_smi_topo(text, "mixed.txt");
    REQUIRE(n.ok());
    CHECK(n->gpus[0].numa == 1);
    CHECK(n->gpus[1].numa == 1);
    CHECK(n->gpus[2].numa == 2);  // a number no printed node uses
    CHECK(n->sockets == 2);
  }
  SECTION("no CPU list either: nothing is made up") {
    const std::string text =
        "\tGPU0\tGPU1\tCPU Affinity\tNUMA Affinity\n"
        "GPU0\t X \tPHB\tN/A\tN/A\n"
        "GPU1\tPHB\t X \tN/A\tN/A\n";
    auto n = parse_nvidia_smi_topo(text, "none.txt");
    REQUIRE(n.ok());
    CHECK_FALSE(n->gpus[0].numa.has_value());
    CHECK(n->numa_nodes.empty());
  }
}
