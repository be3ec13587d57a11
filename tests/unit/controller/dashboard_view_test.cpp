// The dashboard's pure parts: the cluster view (grouping, GPU holders, what each viewer may see,
// queue order), session tokens (expiry, the cap) and the log's tail (from a line's start).
#include <catch2/catch.hpp>

#include <filesystem>

#include "common/document.hpp"
#include "common/topology/topology_file.hpp"
#include "controller/api/cluster_view.hpp"
#include "controller/api/events_hub.hpp"
#include "controller/api/session_tokens.hpp"
#include "controller/runtime/job_logs.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::api;

namespace {

topo::NodeTopology four_gpus() {
  auto doc = parse_yaml_document(
      "gpus: [{index: 0, model: A100}, {index: 1}, {index: 2}, {index: 3}]\n"
      "gpu_links: [[X, NV2, NV2, NV2], [NV2, X, NV2, NV2], [NV2, NV2, X, NV2], [NV2, NV2, NV2, "
      "X]]\n",
      "t");
  return topo::node_topology_from_document(doc.value()).value();
}

nodes::NodeView node(const std::string& name, const std::string& leaf) {
  nodes::NodeView n;
  n.name = name;
  n.leaf = leaf;
  n.spine = leaf.empty() ? "" : "spine1";
  n.topology = std::make_shared<const topo::NodeTopology>(four_gpus());
  n.shape = n.topology;
  return n;
}

JobRecord job(JobId id, const std::string& user, JobState state, std::string reason = "") {
  JobRecord j;
  j.id = id;
  j.user = user;
  j.state = state;
  j.reason = std::move(reason);
  j.spec.name = "job" + std::to_string(id);
  if (state == JobState::running || state == JobState::staging) {
    j.placement = {
        {"nodes", {{{"node", "a"}, {"gpus", {0, 1}}}}}, {"ring_link", "NV2"}, {"ring_gbps", 50}};
  }
  return j;
}

store::PlacedJobRow placed(const JobRecord& j) {
  return {j.id,
          j.display_id(),
          j.spec.name,
          j.user,
          j.state,
          j.placement.value("ring_link", std::string()),
          j.placement.contains("ring_gbps")
              ? std::optional<double>(j.placement["ring_gbps"].get<double>())
              : std::nullopt};
}

// What ClusterApi reads for `viewer` when the store holds `jobs`.
ClusterInputs inputs(const std::vector<JobRecord>& jobs, const Viewer& viewer) {
  ClusterInputs in;
  for (const auto& j : jobs) {
    if (j.state == JobState::running || j.state == JobState::staging) in.holders[j.id] = placed(j);
    if (!viewer.sees(j.user) || is_terminal(j.state)) continue;
    in.counts[j.state]++;
    in.queue_jobs.push_back(j);
  }
  return in;
}

ClusterInputs cluster(const Viewer& viewer = {"root", true}) {
  ClusterInputs in = inputs(
      {job(1, "alice", JobState::running), job(2, "bob", JobState::staging),
       job(3, "alice", JobState::pending, "waiting for 8 GPUs"), job(4, "bob", JobState::held)},
      viewer);
  in.nodes = {node("c", ""), node("b", "leaf2"), node("a", "leaf1")};
  in.allocations = {{1, "a", 0b0011, 0}, {2, "b", 0b1000, 0}, {99, "c", 0b0001, 0}};
  in.staging[2] = {100, 400};
  return in;
}

}  // namespace

TEST_CASE("the cluster view groups nodes by leaf and names each GPU's job", "[dashboard]") {
  const auto v = cluster_view(cluster(), {"root", true});
  REQUIRE(v["leaves"].size() == 3);
  CHECK(v["leaves"][0]["leaf"] == "leaf1");
  CHECK(v["leaves"][0]["spine"] == "spine1");
  CHECK(v["leaves"][1]["leaf"] == "leaf2");
  CHECK(v["leaves"][2]["leaf"].is_null());  // outside the switch tree: last
  const auto& a = v["leaves"][0]["nodes"][0];
  CHECK(a["name"] == "a");
  CHECK(a["gpus"][0]["model"] == "A100");
  CHECK(a["gpus"][0]["job"]["id"] == "1");
  CHECK(a["gpus"][0]["job"]["user"] == "alice");
  CHECK(a["gpus"][0]["job"]["ring_link"] == "NV2");
  CHECK(a["gpus"][1]["job"]["id"] == "1");
  CHECK(a["gpus"][2]["job"].is_null());
  CHECK(v["leaves"][1]["nodes"][0]["gpus"][3]["job"]["id"] == "2");
  // An allocation of a job that ended between the two reads is not shown as held.
  CHECK(v["leaves"][2]["nodes"][0]["gpus"][0]["job"].is_null());
  CHECK(v["totals"]["gpus"] == 12);
  CHECK(v["totals"]["allocated"] == 3);
  CHECK(v["totals"]["jobs"]["PENDING"] == 1);
  CHECK(v["totals"]["jobs"]["HELD"] == 1);
}

TEST_CASE("the queue shows running jobs first then waiting ones with reasons", "[dashboard]") {
  const auto v = cluster_view(cluster(), {"root", true});
  REQUIRE(v["queue"].size() == 4);
  CHECK(v["queue"][0]["id"] == "1");
  CHECK(v["queue"][0]["nodes"] == nlohmann::json{"a"});
  CHECK(v["queue"][1]["id"] == "2");
  CHECK(v["queue"][1]["staging"]["bytes_done"] == 100);
  CHECK(v["queue"][1]["staging"]["bytes_total"] == 400);
  CHECK(v["queue"][2]["id"] == "3");
  CHECK(v["queue"][2]["reason"] == "waiting for 8 GPUs");
  CHECK(v["queue"][2]["staging"].is_null());
  CHECK(v["queue"][3]["id"] == "4");
  CHECK(v["queue_more"] == 0);
}

TEST_CASE("a user who is not an admin sees others' GPUs only as taken", "[dashboard]") {
  const auto v = cluster_view(cluster({"alice", false}), {"alice", false});
  CHECK(v["viewer"]["user"] == "alice");
  const auto& mine = v["leaves"][0]["nodes"][0]["gpus"][0]["job"];
  CHECK(mine["user"] == "alice");
  const auto& theirs = v["leaves"][1]["nodes"][0]["gpus"][3]["job"];
  CHECK(theirs["other"] == true);
  CHECK_FALSE(theirs.contains("user"));
  CHECK_FALSE(theirs.contains("id"));
  CHECK_FALSE(theirs.contains("name"));
  CHECK(v["totals"]["allocated"] == 3);  // taken is taken, whoever holds it
  REQUIRE(v["queue"].size() == 2);
  CHECK(v["queue"][0]["id"] == "1");
  CHECK(v["queue"][1]["id"] == "3");
  CHECK_FALSE(v["totals"]["jobs"].contains("HELD"));  // bob's
}

TEST_CASE("the queue is cut at its limit and says how many more wait", "[dashboard]") {
  std::vector<JobRecord> jobs;
  for (JobId id = 1; id <= static_cast<JobId>(kQueueShown) + 7; ++id)
    jobs.push_back(job(id, "alice", JobState::pending, "waiting"));
  const auto v = cluster_view(inputs(jobs, {"alice", false}), {"alice", false});
  CHECK(v["queue"].size() == kQueueShown);
  CHECK(v["queue_more"] == 7);
  CHECK(v["leaves"].empty());
}

// Past the queue's page nothing is dropped: every placed job's GPUs are drawn held and the
// totals and queue_more count every job, though the queue read only its first page.
TEST_CASE("a cluster larger than the queue's page loses no job in the view", "[dashboard]") {
  std::vector<JobRecord> jobs;
  std::vector<store::AllocationRow> allocations;
  std::vector<nodes::NodeView> nodes;
  for (int n = 0; n < 200; ++n) {
    nodes.push_back(node("n" + std::to_string(1000 + n), "leaf1"));
    for (int g = 0; g < 4; ++g) {
      const JobId id = n * 4 + g + 1;
      jobs.push_back(job(id, "alice", JobState::running));
      allocations.push_back({id, nodes.back().name, std::uint64_t{1} << g, 0});
    }
  }
  for (JobId id = 801; id <= 2000; ++id)
    jobs.push_back(job(id, "alice", JobState::pending, "waiting"));
  ClusterInputs in = inputs(jobs, {"root", true});
  in.queue_jobs.resize(kQueueShown);  // the store is asked for one page
  in.nodes = nodes;
  in.allocations = allocations;
  const auto v = cluster_view(in, {"root", true});
  CHECK(v["totals"]["allocated"] == 800);
  CHECK(v["totals"]["jobs"]["RUNNING"] == 800);
  CHECK(v["totals"]["jobs"]["PENDING"] == 1200);
  CHECK(v["queue"].size() == kQueueShown);
  CHECK(v["queue_more"] == 2000 - static_cast<int>(kQueueShown));
  CHECK(v["leaves"][0]["nodes"][199]["gpus"][3]["job"]["id"] == "800");
}

TEST_CASE("a dashboard is sent its whole view once, then only what changed", "[dashboard]") {
  DashboardSent sent;
  ClusterInputs in = cluster();
  const auto first =
      nlohmann::json::parse(cluster_update(cluster_parts(cluster_view(in, {"root", true})), sent));
  CHECK(first["type"] == "cluster");
  CHECK(first["cluster"]["leaves"].size() == 3);
  // Nothing changed: nothing is sent.
  CHECK(cluster_update(cluster_parts(cluster_view(in, {"root", true})), sent).empty());
  // Job 2 ends: node b's cell frees, the totals and the queue change; nodes a and c are not sent.
  in.allocations.erase(in.allocations.begin() + 1);
  in.holders.erase(2);
  in.counts.erase(JobState::staging);
  in.queue_jobs.erase(in.queue_jobs.begin() + 1);
  const auto delta =
      nlohmann::json::parse(cluster_update(cluster_parts(cluster_view(in, {"root", true})), sent));
  CHECK(delta["type"] == "cluster_delta");
  REQUIRE(delta["nodes"].size() == 1);
  CHECK(delta["nodes"][0]["name"] == "b");
  CHECK(delta["nodes"][0]["gpus"][3]["job"].is_null());
  CHECK(delta["totals"]["allocated"] == 2);
  CHECK(delta["queue"].size() == 3);
  CHECK(delta["queue_more"] == 0);
  // A job waits longer with a new reason: only the queue.
  in.queue_jobs[1].reason = "waiting for 16 GPUs";
  const auto reason =
      nlohmann::json::parse(cluster_update(cluster_parts(cluster_view(in, {"root", true})), sent));
  CHECK_FALSE(reason.contains("nodes"));
  CHECK_FALSE(reason.contains("totals"));
  CHECK(reason["queue"][1]["reason"] == "waiting for 16 GPUs");
  // A node joins: the layout changed, the whole view again.
  in.nodes.push_back(node("d", "leaf2"));
  const auto whole =
      nlohmann::json::parse(cluster_update(cluster_parts(cluster_view(in, {"root", true})), sent));
  CHECK(whole["type"] == "cluster");
  CHECK(whole["cluster"]["leaves"][1]["nodes"].size() == 2);
}

TEST_CASE("session tokens expire and are unguessable strings", "[dashboard]") {
  SessionTokens tokens;
  const std::string t = tokens.issue("alice", 1000, 60000);
  CHECK(t.size() == 64);
  CHECK(t.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(tokens.issue("alice", 1000, 60000) != t);
  REQUIRE(tokens.find(t, 2000));
  CHECK(tokens.find(t, 2000)->user == "alice");
  CHECK_FALSE(tokens.find(t, 61000));  // expired
  CHECK_FALSE(tokens.find(t.substr(0, 63), 2000));
  CHECK_FALSE(tokens.find("", 2000));
  CHECK(tokens.live(2000) == 2);
  tokens.issue("bob", 70000, 1000);  // issuing forgets the ended ones
  CHECK(tokens.live(70000) == 1);
}

TEST_CASE("a log's tail starts on a whole line", "[dashboard]") {
  sy::test::TempDir dir;
  runtime::JobLogs logs(dir.file("logs"));
  protocol::JobOutput out;
  out.job = 7;
  out.offset = 0;
  out.text = "0: first line\n0: second line\n0: third\n";
  out.end = static_cast<std::int64_t>(out.text.size());
  logs.append("n1", out);
  const auto whole = logs.tail(7, 1000);
  CHECK(whole.offset == 0);
  CHECK(whole.slice.text == out.text);
  const auto tail = logs.tail(7, 20);
  CHECK(tail.slice.text == "0: third\n");
  CHECK(tail.offset == static_cast<std::int64_t>(out.text.size() - 9));
  CHECK(tail.slice.next == static_cast<std::int64_t>(out.text.size()));
  // Exactly a line's worth: the byte before it is a line's end.
  CHECK(logs.tail(7, 9).slice.text == "0: third\n");
  CHECK(logs.tail(7, 8).slice.text.empty());
  CHECK(logs.tail(8, 100).slice.text.empty());  // no log yet
}
