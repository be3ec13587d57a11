// nic-numa: half for keeping the GPUs on one NUMA node, half for how close each is to a NIC.
#include "plugins/placement/nic_numa_scorer.hpp"

#include <set>

namespace sy::placement {
namespace {

// PIX 1.0 ... SYS 0.0; a node without NICs does not count against a placement.
double nic_closeness(const topo::NodeTopology& t, int gpu) {
  auto nic = t.nearest_nic(gpu);
  if (!nic) return 1.0;
  const topo::Link& l = t.nic_links[*nic][gpu];
  switch (l.kind) {
    case topo::LinkKind::nvlink:
    case topo::LinkKind::pix:
      return 1.0;
    case topo::LinkKind::pxb:
      return 0.8;
    case topo::LinkKind::phb:
      return 0.6;
    case topo::LinkKind::node:
      return 0.4;
    case topo::LinkKind::sys:
      return 0.0;
  }
  return 0.0;
}

}  // namespace

int NicNumaScorer::score(const ScoreInput& in) const {
  const auto gpus = gpus_of(in.chosen);
  if (gpus.empty()) return 0;
  std::set<int> numa;
  double nic = 0;
  for (int g : gpus) {
    numa.insert(in.topology.gpus[g].numa.value_or(-1));
    nic += nic_closeness(in.topology, g);
  }
  const double numa_part = numa.size() == 1 ? 1.0 : 0.0;
  return static_cast<int>(kMaxScore *
                          (0.5 * numa_part + 0.5 * nic / static_cast<double>(gpus.size())));
}

std::string NicNumaScorer::explain(const ScoreInput& in) const {
  std::set<int> numa;
  for (int g : gpus_of(in.chosen))
    numa.insert(in.topology.gpus[g].numa.value_or(-1));
  return numa.size() == 1 ? "one NUMA node" : std::to_string(numa.size()) + " NUMA nodes";
}

}  // namespace sy::placement
