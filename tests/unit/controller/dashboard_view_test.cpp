// The dashboard's pure parts: the cluster view (grouping, GPU holders, what each viewer may see,
// queue order), session tokens (expiry, the cap) and the log's tail (from a line's start).
#include <catch2/catch.hpp>

#include <filesystem>

#include "common/document.hpp"
#include "common/topology/topology_file.hpp"
#include "controller/api/cluster_view.hpp"
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

ClusterInputs cluster() {
  ClusterInputs in;
  in.nodes = {node("c", ""), node("b", "leaf2"), node("a", "leaf1")};
  in.active_jobs = {job(1, "alice", JobState::running), job(2, "bob", JobState::staging),
                    job(3, "alice", JobState::pending, "waiting for 8 GPUs"),
                    job(4, "bob", JobState::held)};
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
  const auto v = cluster_view(cluster(), {"alice", false});
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
  ClusterInputs in;
  for (JobId id = 1; id <= static_cast<JobId>(kQueueShown) + 7; ++id)
    in.active_jobs.push_back(job(id, "alice", JobState::pending, "waiting"));
  const auto v = cluster_view(in, {"alice", false});
  CHECK(v["queue"].size() == kQueueShown);
  CHECK(v["queue_more"] == 7);
  CHECK(v["leaves"].empty());
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
