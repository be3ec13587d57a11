#include "controller/scheduler/data_holding.hpp"

#include <algorithm>

namespace sy::sched {
namespace {

template <typename Held>
auto by_id(Held& held, int id) {
  return std::lower_bound(held.begin(), held.end(), std::pair<int, std::int64_t>{id, 0},
                          [](const auto& a, const auto& b) { return a.first < b.first; });
}

void insert_sorted(std::vector<int>& nodes, int node) {
  auto at = std::lower_bound(nodes.begin(), nodes.end(), node);
  if (at == nodes.end() || *at != node) nodes.insert(at, node);
}

void erase_sorted(std::vector<int>& nodes, int node) {
  auto at = std::lower_bound(nodes.begin(), nodes.end(), node);
  if (at != nodes.end() && *at == node) nodes.erase(at);
}

}  // namespace

DataHolding::DataHolding(const std::map<std::string, std::int64_t>& datasets,
                         const std::vector<NodeInput>& nodes) {
  for (const auto& [name, bytes] : datasets) {
    ids_.emplace_hint(ids_.end(), name, static_cast<int>(sizes_.size()));
    sizes_.push_back(bytes);
  }
  holders_.resize(sizes_.size());
  partial_.resize(sizes_.size());
  held_.resize(nodes.size());
  for (int n = 0; n < static_cast<int>(nodes.size()); ++n)
    add_node(n, nodes[n].cached);
}

void DataHolding::add_node(int node, const std::map<std::string, std::int64_t>& cached) {
  // The cache and the registry are both in name order: one walk through the two.
  auto d = ids_.begin();
  for (const auto& [name, bytes] : cached) {
    int order = 1;
    while (d != ids_.end() && (order = d->first.compare(name)) < 0)
      ++d;
    if (d == ids_.end()) break;
    if (order != 0 || bytes <= 0) continue;  // not registered, or nothing of it held
    const int id = d->second;
    held_[node].emplace_back(id, std::min(bytes, sizes_[id]));
    insert_sorted(holders_[id], node);
    if (bytes < sizes_[id]) insert_sorted(partial_[id], node);
  }
}

void DataHolding::update_node(int node, const std::map<std::string, std::int64_t>& cached) {
  for (const auto& [id, bytes] : held_[node]) {
    erase_sorted(holders_[id], node);
    erase_sorted(partial_[id], node);
  }
  held_[node].clear();
  add_node(node, cached);
}

int DataHolding::id(const std::string& name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : it->second;
}

std::int64_t DataHolding::held(int node, int id) const {
  const auto& held = held_[node];
  auto it = by_id(held, id);
  return it == held.end() || it->first != id ? 0 : it->second;
}

}  // namespace sy::sched
