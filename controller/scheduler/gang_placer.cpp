#include "controller/scheduler/gang_placer.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <set>

namespace sy::sched {

bool gpus_match(const topo::NodeTopology& t, const PendingJob& job) {
  if (t.gpus.empty()) return false;
  const topo::Gpu& gpu = t.gpus.front();  // a node's GPUs are of one kind
  if (!job.gpu_model.empty()) {
    auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return s;
    };
    if (lower(gpu.model).find(lower(job.gpu_model)) == std::string::npos) return false;
  }
  return job.min_gpu_memory_mib <= 0 || gpu.memory_mib >= job.min_gpu_memory_mib;
}

bool has_features(const NodeInput& node, const PendingJob& job) {
  return std::includes(node.features.begin(), node.features.end(), job.features.begin(),
                       job.features.end());
}

GangPlacer::GangPlacer(const Snapshot& snapshot, const Profile& profile)
    : snapshot_(snapshot), profile_(profile) {
  for (const auto& [scorer, weight] : profile.scorers) {
    (scorer->per_job() ? job_scorers_ : node_scorers_).emplace_back(scorer, weight);
  }
  for (const auto& [scorer, weight] : job_scorers_) {
    no_data_score_ += weight * scorer->score({topo::NodeTopology{}, 0, 0, {}});
  }
  for (int n = 0; n < static_cast<int>(snapshot.nodes.size()); ++n) {
    for (const auto& [dataset, bytes] : snapshot.nodes[n].cached) {
      auto size = snapshot.dataset_bytes.find(dataset);
      if (bytes <= 0 || size == snapshot.dataset_bytes.end()) continue;
      holders_[dataset].push_back(n);
      if (bytes < size->second) partial_[dataset].push_back(n);
    }
  }
}

std::int64_t GangPlacer::held(int node, const std::string& dataset) const {
  auto size = snapshot_.dataset_bytes.find(dataset);
  if (size == snapshot_.dataset_bytes.end()) return 0;
  if (staged_.contains({node, dataset})) return size->second;
  const auto& cached = snapshot_.nodes[node].cached;
  auto it = cached.find(dataset);
  return it == cached.end() ? 0 : std::min(it->second, size->second);
}

placement::DataNeed GangPlacer::data_need(int node, const PendingJob& job) const {
  placement::DataNeed need;
  need.staging_bytes_per_s = profile_.staging_bytes_per_s;
  need.horizon_ms = profile_.staging_horizon_ms;
  for (const auto& d : job.datasets) {
    auto size = snapshot_.dataset_bytes.find(d);
    if (size == snapshot_.dataset_bytes.end()) continue;  // not registered: nothing known to copy
    need.total_bytes += size->second;
    need.missing_bytes += size->second - held(node, d);
  }
  return need;
}

int GangPlacer::job_score(int node, const PendingJob& job) const {
  if (job.datasets.empty() || job_scorers_.empty()) return no_data_score_;
  const placement::ScoreInput in{*snapshot_.nodes[node].topology, 0, 0, data_need(node, job)};
  int score = 0;
  for (const auto& [scorer, weight] : job_scorers_)
    score += weight * scorer->score(in);
  return score;
}

std::vector<int> GangPlacer::holders(const PendingJob& job) const {
  std::vector<int> out;
  for (const auto& d : job.datasets) {
    if (auto it = holders_.find(d); it != holders_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

const std::vector<int>& GangPlacer::holders(const std::string& dataset) const {
  static const std::vector<int> none;
  auto it = holders_.find(dataset);
  return it == holders_.end() ? none : it->second;
}

const std::vector<int>& GangPlacer::partial_holders(const std::string& dataset) const {
  static const std::vector<int> none;
  auto it = partial_.find(dataset);
  return it == partial_.end() ? none : it->second;
}

void GangPlacer::staged(const std::vector<NodePlacement>& placements, const PendingJob& job) {
  for (const auto& d : job.datasets) {
    if (!snapshot_.dataset_bytes.contains(d)) continue;
    auto& nodes = holders_[d];
    auto& partial = partial_[d];
    for (const auto& p : placements) {
      staged_[{p.node, d}] = 1;
      partial.erase(std::remove(partial.begin(), partial.end(), p.node), partial.end());
      auto at = std::lower_bound(nodes.begin(), nodes.end(), p.node);
      if (at == nodes.end() || *at != p.node) nodes.insert(at, p.node);
    }
  }
}

std::optional<GangPlacer::NodeOption> GangPlacer::on_node(int node, GpuMask free, const Room& room,
                                                          const PendingJob& job) {
  const NodeInput& n = snapshot_.nodes[node];
  const int count = job.gpus_per_node;
  if (!n.schedulable || std::popcount(free) < count || n.topology == nullptr) return std::nullopt;
  if (!fits(room, job)) return std::nullopt;
  if (job.constrained() && (!gpus_match(*n.topology, job) || !has_features(n, job))) {
    return std::nullopt;
  }
  const Cached& c = option(n.topology, free, count);
  return NodeOption{node, c.chosen, c.score + job_score(node, job), free};
}

const GangPlacer::Cached& GangPlacer::option(const topo::NodeTopology* topology, GpuMask free,
                                             int count) {
  const auto key = std::make_tuple(topology, free, count);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    GpuMask chosen = 0;
    if (!profile_.topology_aware || !profile_.interconnect_aware) {
      for (int g : placement::gpus_of(free)) {  // first fit: the lowest free indices
        if (std::popcount(chosen) == count) break;
        chosen |= GpuMask{1} << g;
      }
    } else {
      for (int g : topo::best_ring_subset(*topology, placement::gpus_of(free), count)) {
        chosen |= GpuMask{1} << g;
      }
    }
    int score = 0;
    for (const auto& [scorer, weight] : node_scorers_) {
      score += weight * scorer->score({*topology, free, chosen, {}});
    }
    it = cache_.emplace(key, Cached{chosen, score}).first;
  }
  return it->second;
}

GangChoice GangPlacer::finish(const std::vector<NodeOption>& chosen, const PendingJob& job) {
  GangChoice c;
  c.ring_gbps = topo::kUnlimitedGbps;
  for (const NodeOption& o : chosen) {
    c.placements.push_back({o.node, o.gpus});
    const auto& t = *snapshot_.nodes[o.node].topology;
    c.ring_gbps = std::min(c.ring_gbps, topo::ring_bottleneck_gbps(t, placement::gpus_of(o.gpus)));
  }
  // Each scorer's weighted contribution, averaged over the gang's nodes, for `sy show`.
  for (const auto& [scorer, weight] : profile_.scorers) {
    int sum = 0;
    for (const NodeOption& o : chosen) {
      const placement::DataNeed need =
          scorer->per_job() ? data_need(o.node, job) : placement::DataNeed{};
      sum +=
          weight * scorer->score({*snapshot_.nodes[o.node].topology, o.free_before, o.gpus, need});
    }
    c.scores.emplace_back(std::string(scorer->name()), sum / static_cast<int>(chosen.size()));
  }
  for (const NodeOption& o : chosen) {
    if (!job.datasets.empty()) {
      c.staging_ms = std::max(c.staging_ms, data_need(o.node, job).staging_ms());
    }
  }
  std::sort(c.placements.begin(), c.placements.end(),
            [](const NodePlacement& a, const NodePlacement& b) { return a.node < b.node; });
  return c;
}

std::optional<GangChoice> GangPlacer::place(const PendingJob& job, const std::vector<GpuMask>& free,
                                            const std::vector<Room>& room) {
  std::vector<NodeOption> options;
  for (int i = 0; i < static_cast<int>(snapshot_.nodes.size()); ++i) {
    if (auto o = on_node(i, free[i], room[i], job)) options.push_back(*o);
  }
  if (static_cast<int>(options.size()) < job.nodes) return std::nullopt;
  // Best score first; ties go to the lower node index.
  auto better = [](const NodeOption& a, const NodeOption& b) {
    return a.score != b.score ? a.score > b.score : a.node < b.node;
  };
  if (!profile_.topology_aware) {
    return finish({options.begin(), options.begin() + job.nodes}, job);  // lowest indices
  }
  std::sort(options.begin(), options.end(), better);
  if (job.nodes == 1) return finish({options.front()}, job);
  if (!profile_.interconnect_aware) {
    return finish({options.begin(), options.begin() + job.nodes}, job);  // best nodes, any switch
  }

  // Group by leaf, then by spine. Nodes under no known switch form their own leaf each.
  std::map<std::string, std::vector<NodeOption>> by_leaf;
  std::map<std::string, std::vector<std::string>> leaves_of_spine;
  for (const NodeOption& o : options) {
    const NodeInput& n = snapshot_.nodes[o.node];
    const std::string leaf = n.leaf.empty() ? "\x01" + n.name : n.leaf;
    if (by_leaf[leaf].empty()) leaves_of_spine[n.spine].push_back(leaf);
    by_leaf[leaf].push_back(o);
  }
  auto take_from_leaves =
      [&](std::vector<std::string> leaves) -> std::optional<std::vector<NodeOption>> {
    // Fullest leaves first, so the gang spans as few leaves as it can.
    std::stable_sort(leaves.begin(), leaves.end(), [&](const std::string& a, const std::string& b) {
      return by_leaf[a].size() > by_leaf[b].size();
    });
    std::vector<NodeOption> chosen;
    for (const auto& leaf : leaves) {
      for (const NodeOption& o : by_leaf[leaf]) {
        if (static_cast<int>(chosen.size()) == job.nodes) return chosen;
        chosen.push_back(o);
      }
    }
    if (static_cast<int>(chosen.size()) == job.nodes) return chosen;
    return std::nullopt;
  };
  auto total = [](const std::vector<NodeOption>& v) {
    int s = 0;
    for (const auto& o : v)
      s += o.score;
    return s;
  };
  // One leaf: the best-scoring one; among equals the one with the fewest spare nodes (best fit).
  std::optional<std::vector<NodeOption>> best;
  std::size_t best_spare = 0;
  for (const auto& [leaf, nodes] : by_leaf) {
    if (static_cast<int>(nodes.size()) < job.nodes) continue;
    std::vector<NodeOption> chosen(nodes.begin(), nodes.begin() + job.nodes);
    const std::size_t spare = nodes.size() - job.nodes;
    if (!best || total(chosen) > total(*best) ||
        (total(chosen) == total(*best) && spare < best_spare)) {
      best = chosen, best_spare = spare;
    }
  }
  if (best) return finish(*best, job);
  // One spine, fewest leaves.
  std::optional<std::vector<NodeOption>> best_spine;
  std::size_t best_leaves = 0;
  for (const auto& [spine, leaves] : leaves_of_spine) {
    if (spine.empty()) continue;
    auto chosen = take_from_leaves(leaves);
    if (!chosen) continue;
    std::set<std::string> used;
    for (const auto& o : *chosen)
      used.insert(snapshot_.nodes[o.node].leaf);
    if (!best_spine || used.size() < best_leaves) best_spine = chosen, best_leaves = used.size();
  }
  if (best_spine) return finish(*best_spine, job);
  std::vector<std::string> all;
  for (const auto& [leaf, nodes] : by_leaf)
    all.push_back(leaf);
  auto anywhere = take_from_leaves(all);
  if (anywhere) return finish(*anywhere, job);
  return std::nullopt;
}

}  // namespace sy::sched
