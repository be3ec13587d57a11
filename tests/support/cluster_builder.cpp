#include "tests/support/cluster_builder.hpp"

#include <algorithm>
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
  sched::NodeInput n;
  n.name = name;
  n.topology = &t;
  n.leaf = leaf;
  n.spine = spine;
  n.free = all;
  s_.nodes.push_back(std::move(n));
  return *this;
}

ClusterBuilder& ClusterBuilder::room(const std::string& node, std::int64_t cpus,
                                     std::int64_t memory_mib) {
  named(node).room = sched::Room{cpus, memory_mib};
  return *this;
}

ClusterBuilder& ClusterBuilder::asks(int cpus_per_node, std::int64_t memory_per_node_mib) {
  s_.pending.back().cpus_per_node = cpus_per_node;
  s_.pending.back().memory_per_node_mib = memory_per_node_mib;
  return *this;
}

ClusterBuilder& ClusterBuilder::busy(const std::string& node, sched::GpuMask gpus, sched::JobId job,
                                     std::int64_t end_ms, int cpus, std::int64_t memory_mib) {
  for (int i = 0; i < static_cast<int>(s_.nodes.size()); ++i) {
    if (s_.nodes[i].name != node) continue;
    s_.nodes[i].free &= ~gpus;
    s_.nodes[i].room = sched::take(s_.nodes[i].room, cpus, memory_mib);
    s_.running.push_back({job, i, gpus, end_ms, cpus, memory_mib});
    s_.outcomes[job] = sched::Outcome::active;
    return *this;
  }
  throw std::runtime_error("no node " + node);
}

ClusterBuilder& ClusterBuilder::job(sched::JobId id, int nodes, int gpus_per_node,
                                    std::int64_t time_limit_ms, int priority,
                                    const std::string& account) {
  sched::PendingJob j;
  j.id = id;
  j.user = "u";
  j.account = account;
  j.priority = priority;
  j.submit_ms = id;
  j.nodes = nodes;
  j.gpus_per_node = gpus_per_node;
  j.time_limit_ms = time_limit_ms;
  s_.pending.push_back(std::move(j));
  return *this;
}

ClusterBuilder& ClusterBuilder::needs(const std::string& gpu_model,
                                      std::int64_t min_gpu_memory_mib) {
  s_.pending.back().gpu_model = gpu_model;
  s_.pending.back().min_gpu_memory_mib = min_gpu_memory_mib;
  return *this;
}

ClusterBuilder& ClusterBuilder::uses(const std::string& dataset) {
  s_.pending.back().datasets.push_back(dataset);
  return *this;
}

ClusterBuilder& ClusterBuilder::wants(const std::string& feature) {
  auto& f = s_.pending.back().features;
  f.insert(std::lower_bound(f.begin(), f.end(), feature), feature);
  return *this;
}

ClusterBuilder& ClusterBuilder::after(sched::JobId job, bool ok_only) {
  s_.pending.back().after.push_back({job, ok_only});
  return *this;
}

ClusterBuilder& ClusterBuilder::begins(std::int64_t begin_ms) {
  s_.pending.back().begin_ms = begin_ms;
  return *this;
}

ClusterBuilder& ClusterBuilder::in_array(sched::JobId array_id, int limit) {
  s_.pending.back().array_id = array_id;
  s_.pending.back().array_limit = limit;
  return *this;
}

ClusterBuilder& ClusterBuilder::dataset(const std::string& name, std::int64_t bytes) {
  s_.dataset_bytes[name] = bytes;
  return *this;
}

ClusterBuilder& ClusterBuilder::holds(const std::string& node, const std::string& dataset,
                                      std::int64_t bytes) {
  named(node).cached[dataset] = bytes;
  return *this;
}

ClusterBuilder& ClusterBuilder::feature(const std::string& node, const std::string& feature) {
  auto& f = named(node).features;
  f.insert(std::lower_bound(f.begin(), f.end(), feature), feature);
  return *this;
}

ClusterBuilder& ClusterBuilder::outcome(sched::JobId job, sched::Outcome outcome) {
  s_.outcomes[job] = outcome;
  return *this;
}

sched::NodeInput& ClusterBuilder::named(const std::string& node) {
  for (auto& n : s_.nodes) {
    if (n.name == node) return n;
  }
  throw std::runtime_error("no node " + node);
}

sched::Snapshot ClusterBuilder::snapshot(std::int64_t now_ms) const {
  sched::Snapshot s = s_;
  s.now_ms = now_ms;
  return s;
}

}  // namespace sy::test
