#pragma once
// DataHolding: which nodes hold what of each registered dataset, with the datasets numbered (in
// name order) so that a pass looks a node's holding up by number rather than by name: a pass asks
// it for every node a job might go to, and names compared in maps were most of a long queue's
// pass. Built from the registry's datasets and the nodes' caches; a caller that runs pass after
// pass over the same nodes (the simulator) keeps one and updates the nodes whose caches changed.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "controller/scheduler/snapshot.hpp"

namespace sy::sched {

class DataHolding {
 public:
  DataHolding() = default;
  // `datasets`: each registered dataset's size; `nodes`: their caches (NodeInput::cached).
  DataHolding(const std::map<std::string, std::int64_t>& datasets,
              const std::vector<NodeInput>& nodes);

  // Node `node`'s cache is now `cached` (the registered datasets unchanged).
  void update_node(int node, const std::map<std::string, std::int64_t>& cached);

  int id(const std::string& name) const;  // -1: not registered
  std::int64_t size(int id) const { return sizes_[id]; }
  // Bytes of dataset `id` on `node`, at most its size.
  std::int64_t held(int node, int id) const;
  // The nodes holding some of dataset `id`, ascending; those holding some but not all of it.
  const std::vector<int>& holders(int id) const { return holders_[id]; }
  const std::vector<int>& partial(int id) const { return partial_[id]; }

  bool operator==(const DataHolding&) const = default;

 private:
  void add_node(int node, const std::map<std::string, std::int64_t>& cached);

  std::map<std::string, int, std::less<>> ids_;
  std::vector<std::int64_t> sizes_;                              // by id
  std::vector<std::vector<int>> holders_, partial_;              // by id
  std::vector<std::vector<std::pair<int, std::int64_t>>> held_;  // per node: (id, bytes) by id
};

}  // namespace sy::sched
