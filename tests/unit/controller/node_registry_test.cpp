#include <catch2/catch.hpp>

#include "common/agent_protocol.hpp"
#include "common/topology/topology_file.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/runtime/snapshot_builder.hpp"
#include "tests/support/controller_fixture.hpp"

using namespace sy;
using namespace sy::nodes;

namespace {
topo::NodeTopology two_gpus() {
  auto doc =
      parse_yaml_document("gpus: [{index: 0}, {index: 1}]\ngpu_links: [[X, NV2], [NV2, X]]\n", "t");
  return topo::node_topology_from_document(doc.value()).value();
}
}  // namespace

TEST_CASE("liveness: silent nodes are found by time alone", "[nodes]") {
  topo::ClusterNetwork net({{"spine1", {{"leaf1", {"a"}}}}});
  NodeRegistry registry(net);
  registry.registered("a", two_gpus(), "0.1.0", 1000);
  registry.registered("b", two_gpus(), "0.1.0", 1000);
  CHECK(registry.silent_since(1500, 1000).empty());
  CHECK(registry.heard_from("a", 1800));
  CHECK_FALSE(registry.heard_from("nobody", 1800));
  CHECK(registry.silent_since(2100, 1000) == std::vector<std::string>{"b"});
  registry.set_alive("b", false, "no heartbeat for 1.00s");
  CHECK(registry.silent_since(5000, 1000) ==
        std::vector<std::string>{"a"});  // DOWN is not re-reported
  auto b = registry.get("b");
  REQUIRE(b);
  CHECK(b->state == NodeState::down);
  CHECK(registry.get("a")->leaf == "leaf1");
  CHECK(registry.get("b")->leaf.empty());

  registry.set_drain("a", true, "maintenance");
  CHECK(registry.get("a")->state == NodeState::draining);
  registry.registered("a", two_gpus(), "0.1.0", 6000);  // re-registering keeps the drain
  CHECK(registry.get("a")->state == NodeState::draining);
  CHECK(registry.get("a")->reason == "maintenance");
  registry.registered("b", two_gpus(), "0.1.0", 6000);  // a DOWN node comes back by registering
  CHECK(registry.get("b")->state == NodeState::up);
  CHECK(registry.get("b")->reason.empty());
}

TEST_CASE("nodes loaded at start get a fresh heartbeat window", "[nodes]") {
  NodeRegistry registry{topo::ClusterNetwork()};
  store::NodeRow up{"a", true, false, "", two_gpus(), "0.1.0", 10, 10, ""};
  store::NodeRow down{"b", false, false, "no heartbeat", two_gpus(), "0.1.0", 10, 10, ""};
  registry.load({up, down}, 100000);
  CHECK(registry.silent_since(100500, 1000).empty());
  CHECK(registry.silent_since(101001, 1000) == std::vector<std::string>{"a"});
  CHECK(registry.list().size() == 2);
}

TEST_CASE("recovery: nodes not yet back are not declared DOWN while the fleet registers",
          "[nodes]") {
  NodeRegistry registry{topo::ClusterNetwork()};
  std::vector<store::NodeRow> rows;
  for (const char* name : {"a", "b", "c"})
    rows.push_back({name, true, false, "", two_gpus(), "0.1.0", 10, 10, ""});
  rows.push_back({"d", false, false, "no heartbeat", two_gpus(), "0.1.0", 10, 10, ""});
  registry.load(rows, 100000, 60000);
  CHECK(registry.awaiting_registration() == 3);  // d was DOWN before: nothing to wait for
  // Past the heartbeat timeout, inside the recovery window: nobody is silent.
  CHECK(registry.silent_since(130000, 1000).empty());
  // A node that is back is judged by its heartbeats again.
  registry.registered("a", two_gpus(), "0.1.0", 130000);
  CHECK(registry.awaiting_registration() == 2);
  CHECK(registry.silent_since(135000, 1000) == std::vector<std::string>{"a"});
  registry.heard_from("a", 159500);
  // The window closes: those that never came back are silent since the start.
  CHECK(registry.silent_since(160001, 1000) == std::vector<std::string>{"b", "c"});
  registry.set_alive("b", false, "no heartbeat");
  registry.set_alive("c", false, "no heartbeat");
  CHECK(registry.awaiting_registration() == 0);
}

TEST_CASE("recovery ends early once every node is back", "[nodes]") {
  NodeRegistry registry{topo::ClusterNetwork()};
  registry.load({{"a", true, false, "", two_gpus(), "0.1.0", 10, 10, ""},
                 {"b", true, false, "", two_gpus(), "0.1.0", 10, 10, ""}},
                0, 1000000);
  registry.registered("a", two_gpus(), "0.1.0", 100);
  CHECK(registry.silent_since(5000, 1000) == std::vector<std::string>{"a"});  // b still awaited
  registry.heard_from("a", 5000);
  registry.registered("b", two_gpus(), "0.1.0", 5000);
  CHECK(registry.awaiting_registration() == 0);
  CHECK(registry.silent_since(7000, 1000) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a node registered again by the same agent process is told apart from a new one",
          "[nodes]") {
  NodeRegistry registry{topo::ClusterNetwork()};
  // The instance that registered before a controller restart comes from the database.
  registry.load({{"a", true, false, "", two_gpus(), "0.1.0", 10, 10, "first"}}, 0, 0);
  CHECK(registry.registered("a", two_gpus(), "0.1.0", 100, {}, "first"));
  CHECK(registry.registered("a", two_gpus(), "0.1.0", 200, {}, "first"));
  CHECK_FALSE(registry.registered("a", two_gpus(), "0.1.0", 300, {}, "second"));  // restarted
  CHECK(registry.registered("a", two_gpus(), "0.1.0", 400, {}, "second"));
  // Not known (an older agent): never the same, so its missing jobs are lost, not re-sent.
  CHECK_FALSE(registry.registered("a", two_gpus(), "0.1.0", 500, {}, ""));
  CHECK_FALSE(registry.registered("a", two_gpus(), "0.1.0", 600, {}, ""));
  CHECK_FALSE(registry.registered("new", two_gpus(), "0.1.0", 700, {}, "x"));
}

TEST_CASE("nodes of the same hardware share one topology shape", "[nodes]") {
  NodeRegistry registry{topo::ClusterNetwork()};
  auto with_uuids = [](const std::string& name, const std::string& prefix) {
    auto t = two_gpus();
    t.name = name;
    t.gpus[0].uuid = prefix + "-0";
    t.gpus[1].uuid = prefix + "-1";
    return t;
  };
  for (int i = 0; i < 100; ++i) {
    const std::string name = "n" + std::to_string(i);
    registry.registered(name, with_uuids(name, "GPU-" + std::to_string(i)), "0.1.0", 1);
  }
  auto other = two_gpus();
  other.gpus[1].memory_mib = 40960;
  registry.registered("different", other, "0.1.0", 1);
  const auto views = registry.list();
  REQUIRE(views.size() == 101);
  const auto shared = registry.get("n0")->shape;
  for (const auto& v : views) {
    if (v.name == "different") {
      CHECK(v.shape != shared);
      continue;
    }
    CHECK(v.shape == shared);           // the same object: the scheduler's caches hit
    CHECK(v.topology->name == v.name);  // each node still shows its own identity
    CHECK(v.shape->gpus[0].uuid.empty());
  }
  CHECK(registry.get("n7")->topology->gpus[1].uuid == "GPU-7-1");
  // The pass places on shapes.
  const auto input = runtime::build_pass_input(views, std::vector<sched::PendingJob>{}, {}, 0, {});
  CHECK(input.snapshot.nodes[1].topology == input.snapshot.nodes[2].topology);
}

TEST_CASE("register messages are checked completely", "[nodes][protocol]") {
  const auto good = protocol::register_message("node01", "a1b2", two_gpus());
  auto read = protocol::read_register(good);
  REQUIRE(read.ok());
  CHECK(read->node == "node01");
  CHECK(read->topology.link(0, 1).name() == "NV2");

  auto bad_name = good;
  bad_name["node"] = "../etc";
  CHECK(protocol::read_register(bad_name).error() == "register: \"node\" must be a host name");
  auto bad_topology = good;
  bad_topology["topology"]["gpu_links"][0][1] = "NV3";
  CHECK(protocol::read_register(bad_topology).error() ==
        "register: topology: gpu_links[1][0]: is NV2 but GPU0 to GPU1 is NV3: links must be "
        "symmetric");
  auto no_topology = good;
  no_topology.erase("topology");
  CHECK(protocol::read_register(no_topology).error() == "register: \"topology\" is required");
  CHECK(read->instance == "a1b2");
  auto bad_instance = good;
  bad_instance["instance"] = "a b";
  CHECK(protocol::read_register(bad_instance).error() ==
        "register: \"instance\" must be 1-64 letters, digits or '-'");
  bad_instance["instance"] = 7;
  CHECK_FALSE(protocol::read_register(bad_instance).ok());
  auto no_instance = good;  // an agent from before instances: accepted, never "the same"
  no_instance.erase("instance");
  CHECK(protocol::read_register(no_instance)->instance.empty());
  CHECK(protocol::new_agent_instance().size() == 32);
  CHECK(protocol::new_agent_instance() != protocol::new_agent_instance());
  CHECK_FALSE(protocol::message_type(nlohmann::json::array()).ok());
  CHECK(protocol::message_type(protocol::heartbeat_message(3)).value() == "heartbeat");
}

TEST_CASE("a register message's cache contents are checked and kept by the registry",
          "[nodes][protocol]") {
  const auto good = protocol::register_message(
      "node01", "a1b2", two_gpus(),
      {{.name = "imagenet", .version = "0123456789abcdef", .bytes = 1000}});
  auto read = protocol::read_register(good);
  REQUIRE(read.ok());
  REQUIRE(read->datasets.size() == 1);
  CHECK(read->datasets[0].name == "imagenet");
  CHECK(read->datasets[0].bytes == 1000);

  auto bad = good;
  bad["datasets"][0]["name"] = "../x";
  CHECK(protocol::read_register(bad).error() ==
        "register: datasets[0].name: must be a dataset name");
  bad = good;
  bad["datasets"][0]["version"] = "v1";
  CHECK(protocol::read_register(bad).error() ==
        "register: datasets[0].version: must be 16 hex digits");
  bad = good;
  bad["datasets"][0]["bytes"] = -1;
  CHECK(protocol::read_register(bad).error() ==
        "register: datasets[0].bytes: must be a whole number >= 0");
  bad = good;
  bad["datasets"] = "imagenet";
  CHECK(protocol::read_register(bad).error() == "register: datasets: must be an array");

  nodes::NodeRegistry registry({});
  registry.registered("node01", two_gpus(), "0.1.0", 1000, read->datasets);
  REQUIRE(registry.get("node01")->datasets.size() == 1);
  registry.registered("node01", two_gpus(), "0.1.0", 2000, {});  // evicted since
  CHECK(registry.get("node01")->datasets.empty());
}

TEST_CASE("the pass counts a node's copy only when it is the dataset's current version",
          "[nodes][datasets]") {
  nodes::NodeRegistry registry({});
  registry.registered("a", two_gpus(), "0.1.0", 1000,
                      {{.name = "imagenet", .version = "00000000000000aa", .bytes = 100},
                       {.name = "coco", .version = "00000000000000c1", .bytes = 7}});
  registry.registered("b", two_gpus(), "0.1.0", 1000,
                      {{.name = "imagenet", .version = "00000000000000bb", .bytes = 90}});
  store::DatasetRow imagenet;
  imagenet.name = "imagenet";
  imagenet.current = {.version = "00000000000000bb", .bytes = 120, .files = 3, .created_ms = 0};
  const auto in = runtime::build_pass_input(registry.list(), std::vector<sched::PendingJob>{}, {},
                                            5000, {imagenet});
  CHECK(in.snapshot.dataset_bytes == std::map<std::string, std::int64_t>{{"imagenet", 120}});
  CHECK(in.snapshot.nodes[0].cached.empty());  // an old imagenet; coco is not registered
  CHECK(in.snapshot.nodes[1].cached == std::map<std::string, std::int64_t>{{"imagenet", 90}});
}

TEST_CASE("job messages round-trip and hostile ones are refused before anything runs",
          "[nodes][protocol]") {
  protocol::LaunchOrder order;
  order.job = 12;
  order.command = {"python3", "train.py"};
  order.env = {{"LR", "0.1"}};
  order.workdir = "/shared/run";
  order.gpus = {0, 5};
  order.datasets = {{.name = "imagenet-1k", .version = "0123456789abcdef", .bytes = 0}};
  const auto message = protocol::launch_message(order);
  auto back = protocol::read_launch_order(message);
  REQUIRE(back.ok());
  CHECK(back->command == order.command);
  CHECK(back->env == order.env);
  CHECK(back->gpus == order.gpus);
  CHECK(back->datasets[0].name == "imagenet-1k");

  const auto refused = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json m = message;
    change(m);
    auto r = protocol::read_launch_order(m);
    return r.ok() ? std::string() : r.error();
  };
  CHECK(refused([](auto& m) { m["datasets"][0]["name"] = "../../etc"; }) ==
        "launch: datasets: each must have a dataset name and a 16-hex-digit version");
  CHECK(refused([](auto& m) { m["env"]["BAD NAME"] = "x"; }).find("env.BAD NAME") !=
        std::string::npos);
  CHECK(refused([](auto& m) { m["workdir"] = "relative/dir"; }) ==
        "launch: workdir: must be an absolute path");
  CHECK(refused([](auto& m) { m["gpus"] = {64}; }) == "launch: gpus: must hold GPU indices 0-63");
  CHECK(refused([](auto& m) { m["script"] = "#!/bin/sh\n"; }) ==
        "launch: command: give a command or a script");
  CHECK(refused([](auto& m) { m["job"] = -1; }) == "launch: \"job\" must be a job id");

  const protocol::JobReport ended{.job = 12,
                                  .state = "ended",
                                  .exit_code = 0,
                                  .signal = 15,
                                  .message = "cancelled",
                                  .outputs_error = "",
                                  .rank = -1};
  auto report = protocol::read_job_report(protocol::job_report_message(ended));
  REQUIRE(report.ok());
  CHECK(report->signal == 15);
  CHECK(report->message == "cancelled");
  auto no_code = protocol::job_report_message(ended);
  no_code.erase("exit_code");
  CHECK_FALSE(protocol::read_job_report(no_code).ok());

  // A stage order without a manifest is a check of a held copy: dataset and version only.
  const protocol::StageOrder check{.request = "stage-1",
                                   .source = "/shared/ds",
                                   .dataset = "ds",
                                   .version = "0123456789abcdef",
                                   .manifest = std::nullopt,
                                   .manifest_files = std::nullopt};
  auto check_back = protocol::read_stage_order(protocol::stage_order_message(check));
  REQUIRE(check_back.ok());
  CHECK_FALSE(check_back->manifest);
  CHECK_FALSE(check_back->manifest_files);
  // A copy to make names its manifest by its file count; the agent fetches it.
  auto copy = check;
  copy.manifest_files = 500'000;
  auto copy_back = protocol::read_stage_order(protocol::stage_order_message(copy));
  REQUIRE(copy_back.ok());
  CHECK(copy_back->manifest_files == 500'000);
  auto bad_count = protocol::stage_order_message(copy);
  bad_count["manifest_files"] = -1;
  CHECK(protocol::read_stage_order(bad_count).error() ==
        "stage: \"manifest_files\" must be a whole number >= 0");
  // Its slices: the request and the answer, checked both ways.
  const protocol::ManifestRequest ask{
      .request = "stage-1", .dataset = "ds", .version = "0123456789abcdef", .from = 10'000};
  auto ask_back = protocol::read_manifest_request(protocol::manifest_request_message(ask));
  REQUIRE(ask_back.ok());
  CHECK(ask_back->from == 10'000);
  auto bad_ask = protocol::manifest_request_message(ask);
  bad_ask["version"] = "latest";
  CHECK(protocol::read_manifest_request(bad_ask).error() ==
        "manifest_request: \"version\" must be 16 hex digits");
  auto bad_chunk = protocol::manifest_chunk_message(
      {.request = "stage-1", .from = 0, .total = 2, .files = nlohmann::json::array(), .error = ""});
  bad_chunk["files"] = "everything";
  CHECK(protocol::read_manifest_chunk(bad_chunk).error() ==
        "manifest_chunk: \"files\" must be an array");
  CHECK(check_back->version == "0123456789abcdef");
  auto bad_check = protocol::stage_order_message(check);
  bad_check["dataset"] = "../ds";
  CHECK(protocol::read_stage_order(bad_check).error() ==
        "stage: \"dataset\" must be a dataset name");

  // A registration carries the agent's jobs, checked the same way.
  auto reg = protocol::register_message("node01", "a1b2", two_gpus(), {}, {ended});
  auto read = protocol::read_register(reg);
  REQUIRE(read.ok());
  REQUIRE(read->jobs.size() == 1);
  CHECK(read->jobs[0].job == 12);
  reg["jobs"][0]["state"] = "exploded";
  CHECK(protocol::read_register(reg).error() ==
        "register: jobs: job_report: \"state\" must be running, staging_out, ended or refused");
}
