#include "controller/api/cluster_view.hpp"

#include <algorithm>
#include <bit>

#include "common/units.hpp"

namespace sy::api {

namespace {

nlohmann::json optional_time(const std::optional<std::int64_t>& ms) {
  return ms ? nlohmann::json(format_utc_ms(*ms)) : nlohmann::json(nullptr);
}

// What a GPU cell shows of the job holding it.
nlohmann::json gpu_job(const store::PlacedJobRow& job, const Viewer& viewer) {
  nlohmann::json out{
      {"ring_link",
       job.ring_link.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.ring_link)},
      {"ring_gbps", job.ring_gbps ? nlohmann::json(*job.ring_gbps) : nlohmann::json(nullptr)}};
  if (!viewer.sees(job.user)) {
    out["other"] = true;
    return out;
  }
  out["id"] = job.label;
  out["name"] = job.name;
  out["user"] = job.user;
  out["state"] = std::string(state_name(job.state));
  return out;
}

nlohmann::json queue_entry(const JobRecord& job, const ClusterInputs& in) {
  nlohmann::json nodes = nlohmann::json::array();
  if (job.placement.is_object() && job.placement.contains("nodes")) {
    for (const auto& n : job.placement["nodes"])
      nodes.push_back(n.value("node", ""));
  }
  nlohmann::json out{{"id", job.display_id()},
                     {"name", job.spec.name},
                     {"user", job.user},
                     {"state", std::string(state_name(job.state))},
                     {"reason", job.reason},
                     {"gpus", job.spec.total_gpus()},
                     {"submit_time", format_utc_ms(job.submit_ms)},
                     {"start_time", optional_time(job.start_ms)},
                     {"nodes", std::move(nodes)},
                     {"ring_link", job.placement.is_object()
                                       ? job.placement.value("ring_link", nlohmann::json(nullptr))
                                       : nlohmann::json(nullptr)},
                     {"staging", nullptr}};
  if (auto it = in.staging.find(job.id); it != in.staging.end()) {
    out["staging"] = {{"bytes_done", it->second.bytes_done},
                      {"bytes_total", it->second.bytes_total}};
  }
  return out;
}

}  // namespace

nlohmann::json cluster_view(const ClusterInputs& in, const Viewer& viewer) {
  // (node, GPU index) -> the job holding it
  std::map<std::pair<std::string, int>, const store::PlacedJobRow*> holder;
  for (const auto& a : in.allocations) {
    auto job = in.holders.find(a.job);
    if (job == in.holders.end()) continue;  // ended between the two reads
    for (int i = 0; i < 64; ++i) {
      if (a.gpus & (std::uint64_t{1} << i)) holder[{a.node, i}] = &job->second;
    }
  }

  int gpus = 0, allocated = 0;
  std::map<std::string, nlohmann::json> leaves;  // leaf -> {leaf, spine, nodes}
  std::vector<nodes::NodeView> sorted = in.nodes;
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (const auto& n : sorted) {
    nlohmann::json cells = nlohmann::json::array();
    for (const auto& g : n.topology->gpus) {
      nlohmann::json cell{{"index", g.index}, {"model", g.model}, {"job", nullptr}};
      if (auto h = holder.find({n.name, g.index}); h != holder.end()) {
        cell["job"] = gpu_job(*h->second, viewer);
        ++allocated;
      }
      ++gpus;
      cells.push_back(std::move(cell));
    }
    auto& leaf = leaves[n.leaf];
    if (leaf.is_null()) {
      leaf = {{"leaf", n.leaf.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.leaf)},
              {"spine", n.spine.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.spine)},
              {"nodes", nlohmann::json::array()}};
    }
    leaf["nodes"].push_back({{"name", n.name},
                             {"state", std::string(node_state_name(n.state))},
                             {"reason", n.reason},
                             {"gpus", std::move(cells)}});
  }
  nlohmann::json leaf_list = nlohmann::json::array();
  for (auto& [name, leaf] : leaves) {
    if (!name.empty()) leaf_list.push_back(std::move(leaf));
  }
  // Nodes the cluster network does not name come last, as one group.
  if (auto none = leaves.find(""); none != leaves.end()) leaf_list.push_back(none->second);

  nlohmann::json states = nlohmann::json::object();
  std::int64_t unfinished = 0;
  for (const auto& [state, n] : in.counts) {
    if (n == 0) continue;
    states[std::string(state_name(state))] = n;
    unfinished += n;
  }
  std::vector<const JobRecord*> shown;
  for (const auto& j : in.queue_jobs) {
    if (viewer.sees(j.user) && !is_terminal(j.state)) shown.push_back(&j);
  }
  // Running and staging jobs first (what holds the cluster now), then the waiting ones in
  // submission order.
  std::stable_sort(shown.begin(), shown.end(), [](const JobRecord* a, const JobRecord* b) {
    auto holds = [](JobState s) { return s == JobState::running || s == JobState::staging; };
    const bool ra = holds(a->state), rb = holds(b->state);
    if (ra != rb) return ra;
    return a->id < b->id;
  });
  nlohmann::json queue = nlohmann::json::array();
  for (std::size_t i = 0; i < shown.size() && i < kQueueShown; ++i)
    queue.push_back(queue_entry(*shown[i], in));
  // The counts and the page are two reads: the rest is never negative.
  const auto more = std::max<std::int64_t>(
      unfinished - static_cast<std::int64_t>(queue.size()),
      static_cast<std::int64_t>(shown.size()) - static_cast<std::int64_t>(queue.size()));

  return {{"viewer", {{"user", viewer.user}, {"admin", viewer.admin}}},
          {"totals",
           {{"gpus", gpus},
            {"allocated", allocated},
            {"nodes", in.nodes.size()},
            {"jobs", std::move(states)}}},
          {"leaves", std::move(leaf_list)},
          {"queue", std::move(queue)},
          {"queue_more", more}};
}

}  // namespace sy::api
