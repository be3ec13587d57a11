#include "tests/support/cluster_builder.hpp"

#include <stdexcept>

#include "common/topology/topology_file.hpp"
#include "tests/support/controller_fixture.hpp"

namespace sy::test {

const topo::NodeTopology& ClusterBuilder::fixture(const std::string& name) {
  // Loaded once per process; snapshots point at them.
  static std::map<std::string, std::unique_ptr<topo::NodeTopology>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto t = topo::load_node_topology(source_dir() + "/examples/topologies/" + name + ".yaml");
    if (!t) throw std::runtime_error(t.error().to_string());
    it = cache.emplace(name, std::make_unique<topo::NodeTopology>(std::move(t).value())).first;
  }
  return *it->second;
}

ClusterBuilder& ClusterBuilder::node(const std::string& name, const std::string& fixture_name,
                                     const std::string& leaf, const std::string& spine) {
  const auto& t = fixture(fixture_name);
  const sched::GpuMask all =
      t.gpu_count() == 64 ? ~sched::GpuMask{0} : (sched::GpuMask{1} << t.gpu_count()) - 1;
  s_.nodes.push_back({name, &t, leaf, spine, true, all});
  return *this;
}

ClusterBuilder& ClusterBuilder::busy(const std::string& node, sched::GpuMask gpus, sched::JobId job,
                                     std::int64_t end_ms) {
  for (int i = 0; i < static_cast<int>(s_.nodes.size()); ++i) {
    if (s_.nodes[i].name != node) continue;
    s_.nodes[i].free &= ~gpus;
    s_.running.push_back({job, i, gpus, end_ms});
    return *this;
  }
  throw std::runtime_error("no node " + node);
}

ClusterBuilder& ClusterBuilder::job(sched::JobId id, int nodes, int gpus_per_node,
                                    std::int64_t time_limit_ms, int priority,
                                    const std::string& account) {
  s_.pending.push_back(
      {id, "u", account, priority, id, nodes, gpus_per_node, time_limit_ms, "", 0});
  return *this;
}

ClusterBuilder& ClusterBuilder::needs(const std::string& gpu_model,
                                      std::int64_t min_gpu_memory_mib) {
  s_.pending.back().gpu_model = gpu_model;
  s_.pending.back().min_gpu_memory_mib = min_gpu_memory_mib;
  return *this;
}

sched::Snapshot ClusterBuilder::snapshot(std::int64_t now_ms) const {
  sched::Snapshot s = s_;
  s.now_ms = now_ms;
  return s;
}

}  // namespace sy::test
