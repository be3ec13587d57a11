#include "controller/runtime/snapshot_builder.hpp"

#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "plugins/placement/placement_scorer.hpp"

namespace sy::runtime {

PassInput build_pass_input(std::vector<nodes::NodeView> nodes,
                           std::vector<sched::PendingJob> pending,
                           const std::vector<store::AllocationRow>& allocations,
                           std::int64_t now_ms, const std::vector<store::DatasetRow>& datasets) {
  PassInput in;
  in.nodes = std::move(nodes);
  in.snapshot.now_ms = now_ms;
  std::map<std::string, std::string> current;
  for (const auto& d : datasets) {
    in.snapshot.dataset_bytes[d.name] = d.current.bytes;
    current[d.name] = d.current.version;
  }
  // By name, for every allocation (80,000 at scale): hashed views of the names in in.nodes.
  std::unordered_map<std::string_view, int> index;
  index.reserve(in.nodes.size());
  for (std::size_t i = 0; i < in.nodes.size(); ++i) {
    const auto& n = in.nodes[i];
    const int gpus = n.shape->gpu_count();
    const sched::GpuMask all = gpus >= 64 ? ~sched::GpuMask{0} : (sched::GpuMask{1} << gpus) - 1;
    sched::NodeInput node;
    node.name = n.name;
    node.topology = n.shape.get();  // shared by every node of its shape: caches hit across them
    node.leaf = n.leaf;
    node.spine = n.spine;
    node.schedulable = n.state == nodes::NodeState::up && !n.awaiting_registration;
    node.free = all;
    node.features = n.shape->features;  // sorted when read
    // What the agent reported; a node that did not say is not limited by CPUs or memory.
    if (n.shape->cpus > 0) node.room.cpus = n.shape->cpus;
    if (n.shape->memory_mib > 0) node.room.memory_mib = n.shape->memory_mib;
    for (const auto& held : n.datasets) {
      const auto it = current.find(held.name);
      if (it != current.end() && it->second == held.version) node.cached[held.name] = held.bytes;
    }
    in.snapshot.nodes.push_back(std::move(node));
    index[n.name] = static_cast<int>(i);
  }
  for (const auto& a : allocations) {
    auto it = index.find(a.node);
    if (it == index.end()) continue;  // a node that never re-registered holds nothing schedulable
    auto& node = in.snapshot.nodes[it->second];
    node.free &= ~a.gpus;
    node.room = sched::take(node.room, a.cpus, a.memory_mib);
    in.snapshot.running.push_back({a.job, it->second, a.gpus, a.end_ms, a.cpus, a.memory_mib});
  }
  in.snapshot.pending = std::move(pending);
  return in;
}

PassInput build_pass_input(std::vector<nodes::NodeView> nodes,
                           const std::vector<store::WaitingJob>& waiting,
                           const std::vector<store::AllocationRow>& allocations,
                           std::int64_t now_ms, const std::vector<store::DatasetRow>& datasets) {
  std::vector<sched::PendingJob> pending;
  pending.reserve(waiting.size());
  for (const auto& j : waiting)
    pending.push_back(pending_job(j));
  return build_pass_input(std::move(nodes), std::move(pending), allocations, now_ms, datasets);
}

sched::PendingJob pending_job(const store::WaitingJob& j) {
  sched::PendingJob p;
  p.id = j.id;
  p.user = j.user;
  p.account = j.account;
  p.priority = j.priority;
  p.submit_ms = j.submit_ms;
  p.nodes = j.nodes;
  p.gpus_per_node = j.gpus_per_node;
  p.cpus_per_node = j.cpus_per_gpu * j.gpus_per_node;
  p.memory_per_node_mib = j.memory_per_gpu_mib * j.gpus_per_node;
  p.time_limit_ms = j.time_limit_s ? *j.time_limit_s * 1000 : 0;
  p.gpu_model = j.gpu_model;
  p.min_gpu_memory_mib = j.gpu_memory_mib;
  p.features = j.features;
  p.datasets = j.datasets;
  for (auto d : j.after_ok)
    p.after.push_back({d, true});
  for (auto d : j.after_any)
    p.after.push_back({d, false});
  p.begin_ms = j.begin_ms;
  p.array_id = j.array_id;
  if (j.array_id != 0) p.label = std::to_string(j.array_id) + "_" + std::to_string(j.array_index);
  p.array_limit = j.array_limit;
  return p;
}

sched::Outcome outcome_of(JobState state) {
  if (state == JobState::completed) return sched::Outcome::succeeded;
  return is_terminal(state) ? sched::Outcome::ended : sched::Outcome::active;
}

std::vector<store::AllocationRow> allocation_rows(const PassInput& in, const sched::Start& start,
                                                  std::int64_t end_ms) {
  std::vector<store::AllocationRow> rows;
  for (const auto& p : start.placements) {
    rows.push_back({start.job, in.snapshot.nodes[p.node].name, p.gpus, end_ms, start.cpus_per_node,
                    start.memory_per_node_mib});
  }
  return rows;
}

nlohmann::json placement_json(const PassInput& in, const sched::Start& start,
                              const std::string& profile) {
  nlohmann::json nodes = nlohmann::json::array();
  std::set<std::string> leaves;
  // The link class at the ring's bottleneck: a link of exactly that bandwidth among the GPUs
  // of the node that sets it.
  std::string ring_link;
  for (const auto& p : start.placements) {
    const auto gpus = placement::gpus_of(p.gpus);
    nodes.push_back({{"node", in.snapshot.nodes[p.node].name}, {"gpus", gpus}});
    if (!in.snapshot.nodes[p.node].leaf.empty()) leaves.insert(in.snapshot.nodes[p.node].leaf);
    const auto& t = *in.snapshot.nodes[p.node].topology;
    for (std::size_t a = 0; a < gpus.size() && ring_link.empty(); ++a) {
      for (std::size_t b = a + 1; b < gpus.size(); ++b) {
        if (t.link(gpus[a], gpus[b]).bandwidth_gbps() == start.ring_gbps) {
          ring_link = t.link(gpus[a], gpus[b]).name();
          break;
        }
      }
    }
  }
  nlohmann::json scores = nlohmann::json::object();
  for (const auto& [name, value] : start.scores)
    scores[name] = value;
  return {{"nodes", nodes},
          {"ring_gbps", start.ring_gbps == topo::kUnlimitedGbps ? nlohmann::json(nullptr)
                                                                : nlohmann::json(start.ring_gbps)},
          {"ring_link", ring_link.empty() ? nlohmann::json(nullptr) : nlohmann::json(ring_link)},
          {"leaves", leaves},
          {"backfilled", start.backfilled},
          {"scores", scores},
          {"profile", profile}};
}

}  // namespace sy::runtime
