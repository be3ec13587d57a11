#include <catch2/catch.hpp>

#include "common/topology/cluster_network.hpp"
#include "common/topology/topology_file.hpp"
#include "tests/support/controller_fixture.hpp"

using namespace sy;
using namespace sy::topo;

namespace {

NodeTopology fixture(const std::string& name) {
  auto n = load_node_topology(test::source_dir() + "/examples/topologies/" + name + ".yaml");
  INFO(name << ": " << (n.ok() ? "" : n.error().to_string()));
  REQUIRE(n.ok());
  return n.value();
}

std::vector<int> all_gpus(const NodeTopology& n) {
  std::vector<int> v(n.gpus.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<int>(i);
  return v;
}

}  // namespace

TEST_CASE("fixture topologies load and read back unchanged", "[topology]") {
  for (const char* name :
       {"dgx1-v100", "dgx-h100", "pcie-4gpu-nvlink-pairs", "pcie-8gpu-2socket"}) {
    INFO(name);
    const NodeTopology n = fixture(name);
    auto again = node_topology_from_document(Document::from_value(node_topology_to_json(n)));
    REQUIRE(again.ok());
    CHECK(again.value() == n);
  }
  const auto h100 = fixture("dgx-h100");
  CHECK(h100.gpu_count() == 8);
  CHECK(h100.nics.size() == 8);
  CHECK(h100.tier0.at(0).capacity_mib == 28LL << 20);
  CHECK(h100.nearest_nic(5) == 5);
  CHECK(h100.nics[5].name == "mlx5_9");
}

TEST_CASE("ring bottleneck bandwidth over GPU subsets", "[topology][ring]") {
  const auto v100 = fixture("dgx1-v100");
  const std::vector<int> quad_a{0, 1, 2, 3}, quad_b{4, 5, 6, 7}, ring_only{0, 3, 7, 4},
      split{0, 1, 4, 5};
  CHECK(ring_bottleneck_gbps(v100, std::vector<int>{0}) == kUnlimitedGbps);
  CHECK(ring_bottleneck_gbps(v100, std::vector<int>{0, 3}) == 50);  // NV2
  CHECK(ring_bottleneck_gbps(v100, std::vector<int>{0, 5}) == 10);  // SYS
  CHECK(ring_bottleneck_gbps(v100, quad_a) == 25);                  // 0-3-2-1-0: NV2 NV2 NV2 NV1
  CHECK(ring_bottleneck_gbps(v100, ring_only) == 25);  // an NVLink ring, but 0-7 and 3-4 are SYS
  CHECK(ring_bottleneck_gbps(v100, split) == 25);      // 0-1 NV1, 1-5 NV2, 5-4 NV1, 4-0 NV2
  CHECK(ring_bottleneck_gbps(v100, std::vector<int>{0, 1, 2, 5}) == 10);  // 5 has one NVLink in it
  CHECK(ring_bottleneck_gbps(v100, std::vector<int>{0, 2, 5, 7}) == 10);  // no NVLink ring
  CHECK(ring_bottleneck_gbps(v100, all_gpus(v100)) == 50);  // the NV2 Hamiltonian cycle
  CHECK(pairwise_bandwidth_gbps(v100, quad_a) > pairwise_bandwidth_gbps(v100, ring_only));

  const auto h100 = fixture("dgx-h100");
  CHECK(ring_bottleneck_gbps(h100, all_gpus(h100)) == 450);
  const auto pairs = fixture("pcie-4gpu-nvlink-pairs");
  CHECK(ring_bottleneck_gbps(pairs, std::vector<int>{0, 1}) == 100);
  CHECK(ring_bottleneck_gbps(pairs, all_gpus(pairs)) == 20);  // the ring must cross the PHB
  const auto pcie8 = fixture("pcie-8gpu-2socket");
  CHECK(ring_bottleneck_gbps(pcie8, std::vector<int>{0, 1, 2, 3}) == 16);  // NODE
  CHECK(ring_bottleneck_gbps(pcie8, all_gpus(pcie8)) == 10);               // SYS
}

TEST_CASE("the best GPU subsets are the NVLink-richest", "[topology][ring]") {
  const auto v100 = fixture("dgx1-v100");
  const auto everything = all_gpus(v100);
  // On the cube-mesh the best 4 of 8 is a fully NVLink-connected quad: GPUs 0-3.
  CHECK(best_ring_subset(v100, everything, 4) == std::vector<int>{0, 1, 2, 3});
  // With those taken, the other fully connected quad is left: GPUs 4-7.
  CHECK(best_ring_subset(v100, std::vector<int>{4, 5, 6, 7}, 4) == std::vector<int>{4, 5, 6, 7});
  CHECK(best_ring_subset(v100, everything, 2) == std::vector<int>{0, 3});  // first NV2 pair
  CHECK(best_ring_subset(v100, std::vector<int>{0, 5}, 2) == std::vector<int>{0, 5});
  CHECK(best_ring_subset(v100, std::vector<int>{0}, 2).empty());
  const auto pcie8 = fixture("pcie-8gpu-2socket");
  CHECK(best_ring_subset(pcie8, std::vector<int>{0, 2, 4, 5}, 2) == std::vector<int>{4, 5});  // PIX
  CHECK(best_ring_subset(pcie8, all_gpus(pcie8), 4) == std::vector<int>{0, 1, 2, 3});  // one socket
}

TEST_CASE("switch distance on the 2-spine, 4-leaf network", "[topology]") {
  auto doc = load_yaml_file(test::source_dir() + "/examples/topologies/cluster-2spine-4leaf.yaml");
  REQUIRE(doc.ok());
  auto net = cluster_network_from_document(doc.value());
  REQUIRE(net.ok());
  CHECK(net->spines().size() == 2);
  CHECK(net->leaf_of("node06") == "leaf2");
  CHECK(net->spine_of("node06") == "spine1");
  CHECK(net->switch_distance("node01", "node01") == 0);
  CHECK(net->switch_distance("node01", "node04") == 1);
  CHECK(net->switch_distance("node01", "node05") == 2);
  CHECK(net->switch_distance("node01", "node16") == 3);
  CHECK(net->switch_distance("node01", "elsewhere") == 3);
}

TEST_CASE("bad topology and network files are refused with their place", "[topology]") {
  const std::string two_gpus = "gpus: [{index: 0}, {index: 1}]\n";
  struct Case {
    std::string yaml;
    const char* error;
  };
  const Case cases[] = {
      {two_gpus + "gpu_links: [[X, NV1], [NV2, X]]\n",
       "t.yaml:2:24: gpu_links[1][0]: is NV2 but GPU0 to GPU1 is NV1: links must be symmetric"},
      {two_gpus + "gpu_links: [[X, NV1]]\n",
       "t.yaml:2:1: gpu_links: must have 2 rows, one per GPU"},
      {two_gpus + "gpu_links: [[X, NV1], [NV1]]\n",
       "t.yaml:2:23: gpu_links[1]: must have 2 entries, one per GPU"},
      {two_gpus + "gpu_links: [[NV1, NV1], [NV1, X]]\n",
       "t.yaml:2:14: gpu_links[0][0]: must be X (a GPU's link to itself)"},
      {two_gpus + "gpu_links: [[X, NVLINK], [NV1, X]]\n",
       "t.yaml:2:17: gpu_links[0][1]: must be a link class: X, NV#, PIX, PXB, PHB, NODE or SYS"},
      {"gpus: [{index: 1}]\ngpu_links: [[X]]\n",
       "t.yaml:1:9: gpus[0].index: must be 0 (GPUs are listed in index order from 0)"},
      {"numa_nodes: [{id: 0}]\ngpus: [{index: 0, numa: 3}]\ngpu_links: [[X]]\n",
       "t.yaml:2:19: gpus[0].numa: names NUMA node 3, which numa_nodes does not list"},
      {"gpus: [{index: 0}]\nnics: [{name: mlx5_0}]\ngpu_links: [[X]]\n",
       "t.yaml:1:1: nic_links: is required when nics are listed"},
      {"gpus: [{index: 0}]\ngpu_links: [[X]]\ntier0: [{path: /raid, capacity: 2P}]\n",
       "t.yaml:3:23: tier0[0].capacity: must be a size like 512M, 16G or 80GiB (a bare number is "
       "MiB)"},
      {"gpus: [{index: 0, gpu_model: x}]\ngpu_links: [[X]]\n",
       "t.yaml:1:19: gpus[0].gpu_model: unknown field"},
  };
  for (const Case& c : cases) {
    INFO(c.yaml);
    auto doc = parse_yaml_document(c.yaml, "t.yaml");
    REQUIRE(doc.ok());
    auto n = node_topology_from_document(doc.value());
    REQUIRE_FALSE(n.ok());
    CHECK(n.error().to_string() == c.error);
  }
  auto doc = parse_yaml_document(
      "spines:\n  - name: s1\n    leaves:\n      - {name: l1, nodes: [a, b]}\n"
      "      - {name: l2, nodes: [b]}\n",
      "net.yaml");
  REQUIRE(doc.ok());
  auto net = cluster_network_from_document(doc.value());
  REQUIRE_FALSE(net.ok());
  CHECK(net.error().to_string() ==
        "net.yaml:5:28: spines[0].leaves[1].nodes[0]: node 'b' is under two leaf switches");
}

TEST_CASE("a node's CPUs, memory and GPU device files read and write back", "[topology]") {
  auto doc = parse_yaml_document(
      "cpus: 96\nmemory: 1TiB\n"
      "gpus: [{index: 0, device: /dev/nvidia0}, {index: 1, device: /dev/nvidia3}]\n"
      "gpu_links: [[X, NV4], [NV4, X]]\n",
      "t.yaml");
  REQUIRE(doc.ok());
  auto n = node_topology_from_document(doc.value());
  if (!n) FAIL(n.error().to_string());
  CHECK(n->cpus == 96);
  CHECK(n->memory_mib == 1024 * 1024);
  CHECK(n->gpus[1].device == "/dev/nvidia3");
  auto again =
      node_topology_from_document(Document::from_value(node_topology_to_json(n.value()), "wire"));
  REQUIRE(again.ok());
  CHECK(again.value() == n.value());
  for (const auto& [yaml, error] : std::vector<std::pair<std::string, std::string>>{
           {"cpus: 0\n", "t.yaml:1:1: cpus: must be >= 1"},
           {"memory: lots\n", "t.yaml:1:1: memory: must be a size"},
           {"gpus: [{index: 0, device: nvidia0}]\ngpu_links: [[X]]\n",
            "t.yaml:1:19: gpus[0].device: must match"}}) {
    INFO(yaml);
    auto bad_doc = parse_yaml_document(
        yaml + (yaml.find("gpus") == std::string::npos ? "gpus: [{index: 0}]\ngpu_links: [[X]]\n"
                                                       : ""),
        "t.yaml");
    REQUIRE(bad_doc.ok());
    auto bad = node_topology_from_document(bad_doc.value());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().to_string().rfind(error, 0) == 0);
  }
}
