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

GangPlacer::GangPlacer(const Snapshot& snapshot, const Profile& profile, OptionMemo* memo)
    : snapshot_(snapshot),
      profile_(profile),
      cache_(memo != nullptr ? memo->for_profile(profile) : own_cache_),
      rings_(memo != nullptr ? memo->rings() : own_rings_),
      holding_(snapshot.holding != nullptr
                   ? *snapshot.holding
                   : own_holding_.emplace(snapshot.dataset_bytes, snapshot.nodes)) {
  for (const auto& [scorer, weight] : profile.scorers) {
    (scorer->per_job() ? job_scorers_ : node_scorers_).emplace_back(scorer, weight);
  }
  for (const auto& [scorer, weight] : job_scorers_) {
    no_data_score_ += weight * scorer->score({topo::NodeTopology{}, 0, 0, {}});
  }
}

const std::vector<int>& GangPlacer::dataset_ids(const PendingJob& job) {
  if (ids_job_ != &job || ids_job_id_ != job.id) {
    job_ids_.clear();
    for (const auto& d : job.datasets) {
      if (const int id = dataset_id(d); id >= 0) job_ids_.push_back(id);
    }
    ids_job_ = &job;
    ids_job_id_ = job.id;
  }
  return job_ids_;
}

std::int64_t GangPlacer::held(int node, int id) const {
  return staged_.contains({node, id}) ? holding_.size(id) : holding_.held(node, id);
}

const std::vector<int>& GangPlacer::holders(int id) const {
  auto it = holders_now_.find(id);
  return it == holders_now_.end() ? holding_.holders(id) : it->second;
}

const std::vector<int>& GangPlacer::partial_holders(int id) const {
  auto it = partial_now_.find(id);
  return it == partial_now_.end() ? holding_.partial(id) : it->second;
}

placement::DataNeed GangPlacer::data_need(int node, const PendingJob& job) {
  placement::DataNeed need;
  need.staging_bytes_per_s = profile_.staging_bytes_per_s;
  need.horizon_ms = profile_.staging_horizon_ms;
  // A dataset not registered has nothing known to copy.
  for (int id : dataset_ids(job)) {
    need.total_bytes += holding_.size(id);
    need.missing_bytes += holding_.size(id) - held(node, id);
  }
  return need;
}

int GangPlacer::job_score(int node, const PendingJob& job) {
  if (job.datasets.empty() || job_scorers_.empty()) return no_data_score_;
  const placement::ScoreInput in{*snapshot_.nodes[node].topology, 0, 0, data_need(node, job)};
  int score = 0;
  for (const auto& [scorer, weight] : job_scorers_)
    score += weight * scorer->score(in);
  return score;
}

std::vector<int> GangPlacer::holders(const PendingJob& job) {
  std::vector<int> out;
  for (int id : dataset_ids(job))
    out.insert(out.end(), holders(id).begin(), holders(id).end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void GangPlacer::staged(const std::vector<NodePlacement>& placements, const PendingJob& job) {
  for (int id : dataset_ids(job)) {
    auto& nodes = holders_now_.try_emplace(id, holding_.holders(id)).first->second;
    auto& partial = partial_now_.try_emplace(id, holding_.partial(id)).first->second;
    for (const auto& p : placements) {
      staged_.insert({p.node, id});
      partial.erase(std::remove(partial.begin(), partial.end(), p.node), partial.end());
      auto in = std::lower_bound(nodes.begin(), nodes.end(), p.node);
      if (in == nodes.end() || *in != p.node) nodes.insert(in, p.node);
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

double GangPlacer::ring_gbps(const topo::NodeTopology& topology, GpuMask gpus) {
  auto [it, added] = rings_.try_emplace({&topology, gpus}, 0.0);
  if (added) it->second = topo::ring_bottleneck_gbps(topology, placement::gpus_of(gpus));
  return it->second;
}

GangChoice GangPlacer::finish(const std::vector<NodeOption>& chosen, const PendingJob& job) {
  GangChoice c;
  c.ring_gbps = topo::kUnlimitedGbps;
  for (const NodeOption& o : chosen) {
    c.placements.push_back({o.node, o.gpus});
    const auto& t = *snapshot_.nodes[o.node].topology;
    c.ring_gbps = std::min(c.ring_gbps, ring_gbps(t, o.gpus));
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
