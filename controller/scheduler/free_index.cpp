#include "controller/scheduler/free_index.hpp"

#include <algorithm>
#include <bit>

namespace sy::sched {

FreeIndex::FreeIndex(const Snapshot& snapshot, GangPlacer& placer, std::set<int> counts,
                     const std::vector<GpuMask>& free, const std::vector<int>* only)
    : snapshot_(snapshot),
      placer_(placer),
      counts_(std::move(counts)),
      key_of_(snapshot.nodes.size()) {
  // Group first, then rank each group once: ranking node by node would redo it per member.
  const std::size_t members = only ? only->size() : snapshot.nodes.size();
  for (std::size_t i = 0; i < members; ++i) {
    const std::size_t n = only ? static_cast<std::size_t>((*only)[i]) : i;
    const NodeInput& node = snapshot.nodes[n];
    if (!node.schedulable || node.topology == nullptr) continue;
    const Key key{node.topology, free[n]};
    members_[key].push_back(static_cast<int>(n));  // n ascends: stays sorted
    key_of_[n] = key;
  }
  for (const auto& [key, nodes] : members_)
    add_entries(key);
}

void FreeIndex::erase_entries(const Key& key) {
  auto it = members_.find(key);
  if (it == members_.end() || it->second.empty()) return;
  for (int count : counts_) {
    if (std::popcount(key.second) < count) continue;
    const int score = placer_.option(key.first, key.second, count).score;
    ranked_[count].erase({-score, it->second.front(), key});
  }
}

void FreeIndex::add_entries(const Key& key) {
  auto it = members_.find(key);
  if (it == members_.end() || it->second.empty()) return;
  for (int count : counts_) {
    if (std::popcount(key.second) < count) continue;
    const int score = placer_.option(key.first, key.second, count).score;
    ranked_[count].insert({-score, it->second.front(), key});
  }
}

void FreeIndex::remove(int node) {
  if (!key_of_[node]) return;
  const Key old = *key_of_[node];
  erase_entries(old);
  auto& members = members_[old];
  members.erase(std::lower_bound(members.begin(), members.end(), node));
  add_entries(old);
  key_of_[node].reset();
}

void FreeIndex::update(int node, GpuMask free) {
  remove(node);
  const Key key{snapshot_.nodes[node].topology, free};
  erase_entries(key);
  auto& members = members_[key];
  members.insert(std::lower_bound(members.begin(), members.end(), node), node);
  add_entries(key);
  key_of_[node] = key;
}

std::optional<GangPlacer::NodeOption> FreeIndex::best(int count) const {
  auto it = ranked_.find(count);
  if (it == ranked_.end() || it->second.empty()) return std::nullopt;
  const auto& [neg_score, node, key] = *it->second.begin();
  const auto& cached = placer_.option(key.first, key.second, count);
  return GangPlacer::NodeOption{node, cached.chosen, -neg_score, key.second};
}

}  // namespace sy::sched
