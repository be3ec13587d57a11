#pragma once
// OptionMemo: the best GPUs of a node for a count, and the score the profile's node scorers give
// them, depend only on the node's topology, its free GPUs and the count (and the ring speed of
// the GPUs chosen, on the topology and those GPUs). A pass works each out once; a memo handed
// from pass to pass (the simulator runs hundreds of thousands of passes over the same few
// topologies) spares the later ones from working them out again. The answers are the same with
// it or without it.
//
// It is good for one profile's choices (it forgets what it holds when handed another profile's
// passes) and for topologies that outlive it: they are known by address.

#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "controller/scheduler/plan.hpp"

namespace sy::sched {

class OptionMemo {
 public:
  struct Option {
    GpuMask chosen = 0;
    int score = 0;
  };
  using Key = std::tuple<const topo::NodeTopology*, GpuMask, int>;  // topology, free, count

  // The memo's answers for `profile`: emptied first when they were another profile's, or when
  // there are more than kMostOptions of them (nodes of many GPUs have many free-GPU sets). Call
  // it between passes: it may drop what a running pass holds references to.
  std::map<Key, Option>& for_profile(const Profile& profile);
  static constexpr std::size_t kMostOptions = std::size_t{1} << 20;
  // The ring bottleneck (GB/s) of a set of GPUs on a topology, whatever the profile; emptied
  // past kMostOptions, so likewise called between passes.
  using RingKey = std::pair<const topo::NodeTopology*, GpuMask>;
  std::map<RingKey, double>& rings();

 private:
  // What of a profile the answers depend on.
  using Identity =
      std::tuple<bool, bool, std::vector<std::pair<const placement::PlacementScorer*, int>>>;
  static Identity identity(const Profile& profile);

  Identity profile_;
  std::map<Key, Option> options_;
  std::map<RingKey, double> rings_;
};

}  // namespace sy::sched
