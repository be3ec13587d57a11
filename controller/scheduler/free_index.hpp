#pragma once
// FreeIndex: the schedulable nodes grouped by (topology, free GPUs), with, for each GPU count a
// single-node job may ask for, the groups ordered by (best score, lowest node). Finding the best
// node for such a job is then a lookup, not a scan; taking GPUs moves one node between groups.
// Ties and scores are exactly those of GangPlacer::place.

#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "controller/scheduler/gang_placer.hpp"

namespace sy::sched {

class FreeIndex {
 public:
  // `counts`: the GPU counts queries will ask for. `only`: index just these nodes (ascending);
  // nullptr: every schedulable node.
  FreeIndex(const Snapshot& snapshot, GangPlacer& placer, std::set<int> counts,
            const std::vector<GpuMask>& free, const std::vector<int>* only = nullptr);

  void update(int node, GpuMask free);  // the node's free GPUs changed (or it joins the index)
  bool contains(int node) const { return key_of_[node].has_value(); }
  void remove(int node);  // the node leaves the index (its GPUs are reserved)
  std::optional<GangPlacer::NodeOption> best(int count) const;

 private:
  using Key = std::pair<const topo::NodeTopology*, GpuMask>;
  void erase_entries(const Key& key);
  void add_entries(const Key& key);

  const Snapshot& snapshot_;
  GangPlacer& placer_;
  std::set<int> counts_;
  std::vector<std::optional<Key>> key_of_;                     // per node; nullopt when not indexed
  std::map<Key, std::vector<int>> members_;                    // ascending node indices
  std::map<int, std::set<std::tuple<int, int, Key>>> ranked_;  // count -> (-score, min node, key)
};

}  // namespace sy::sched
