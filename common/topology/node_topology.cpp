#include "common/topology/node_topology.hpp"

#include <algorithm>
#include <functional>

namespace sy::topo {

std::optional<int> NodeTopology::nearest_nic(int gpu) const {
  std::optional<int> best;
  for (int n = 0; n < static_cast<int>(nics.size()); ++n) {
    if (!best || nic_links[n][gpu].distance_rank() < nic_links[*best][gpu].distance_rank()) {
      best = n;
    }
  }
  return best;
}

namespace {

// Is there a Hamiltonian cycle through all of `gpus` using only links of at least `min_gbps`?
// Bitmask DP over paths starting at gpus[0]: fine for the <= 16 GPUs a node has.
bool has_ring_at_least(const NodeTopology& node, std::span<const int> gpus, double min_gbps) {
  const int k = static_cast<int>(gpus.size());
  auto ok = [&](int a, int b) { return node.link(gpus[a], gpus[b]).bandwidth_gbps() >= min_gbps; };
  std::vector<std::uint32_t> reach(std::size_t{1} << k, 0);  // reach[mask]: bitset of end points
  reach[1] = 1;
  for (std::uint32_t mask = 1; mask < (1u << k); mask += 2) {
    if (!reach[mask]) continue;
    for (int end = 0; end < k; ++end) {
      if (!(reach[mask] & (1u << end))) continue;
      for (int next = 1; next < k; ++next) {
        if (!(mask & (1u << next)) && ok(end, next)) reach[mask | (1u << next)] |= 1u << next;
      }
    }
  }
  const std::uint32_t full = (1u << k) - 1;
  for (int end = 1; end < k; ++end) {
    if ((reach[full] & (1u << end)) && ok(end, 0)) return true;
  }
  return false;
}

}  // namespace

double ring_bottleneck_gbps(const NodeTopology& node, std::span<const int> gpus) {
  if (gpus.size() <= 1) return kUnlimitedGbps;
  if (gpus.size() == 2) return node.link(gpus[0], gpus[1]).bandwidth_gbps();
  std::vector<double> levels;
  for (std::size_t a = 0; a < gpus.size(); ++a) {
    for (std::size_t b = a + 1; b < gpus.size(); ++b) {
      levels.push_back(node.link(gpus[a], gpus[b]).bandwidth_gbps());
    }
  }
  std::sort(levels.begin(), levels.end(), std::greater<>());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  for (double level : levels) {
    if (has_ring_at_least(node, gpus, level)) return level;
  }
  return levels.back();  // a complete graph always has a ring at its slowest level
}

double pairwise_bandwidth_gbps(const NodeTopology& node, std::span<const int> gpus) {
  double sum = 0;
  for (std::size_t a = 0; a < gpus.size(); ++a) {
    for (std::size_t b = a + 1; b < gpus.size(); ++b) {
      sum += node.link(gpus[a], gpus[b]).bandwidth_gbps();
    }
  }
  return sum;
}

std::vector<int> best_ring_subset(const NodeTopology& node, std::span<const int> candidates,
                                  int count) {
  const int n = static_cast<int>(candidates.size());
  if (count <= 0 || count > n) return {};
  std::vector<int> sorted(candidates.begin(), candidates.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> best, current;
  double best_ring = -1, best_pairs = -1;
  // Visits subsets in lexicographic order; only a strictly better one replaces the best.
  std::function<void(int)> visit = [&](int from) {
    if (static_cast<int>(current.size()) == count) {
      const double ring = ring_bottleneck_gbps(node, current);
      const double pairs = pairwise_bandwidth_gbps(node, current);
      if (ring > best_ring || (ring == best_ring && pairs > best_pairs)) {
        best = current, best_ring = ring, best_pairs = pairs;
      }
      return;
    }
    for (int i = from; i <= n - (count - static_cast<int>(current.size())); ++i) {
      current.push_back(sorted[i]);
      visit(i + 1);
      current.pop_back();
    }
  };
  visit(0);
  return best;
}

}  // namespace sy::topo
