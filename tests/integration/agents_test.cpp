// The real sy-controller with 4 real sy-agent processes presenting fixture topologies under two
// leaf switches: registration, node loss by SIGKILL, and re-registration after a controller
// restart, observed through the real sy CLI.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/units.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kTimeoutMs = 1500;

nlohmann::json nodes_json(const ControllerFixture& c) {
  auto r = run_program({cli_binary(), "--controller", c.address(), "nodes", "--json"},
                       {{"SY_CONFIG", ""}, {"SY_CONTROLLER", ""}});
  if (r.exit_code != 0) return nlohmann::json::array();
  return nlohmann::json::parse(r.out);
}

std::map<std::string, nlohmann::json> by_name(const nlohmann::json& nodes) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& n : nodes)
    out[n["name"].get<std::string>()] = n;
  return out;
}

// Polls `sy nodes --json` until `done` holds (bounded); returns the last answer.
template <class Pred>
nlohmann::json wait_for(const ControllerFixture& c, Pred done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  nlohmann::json nodes;
  do {
    nodes = nodes_json(c);
    if (done(by_name(nodes))) return nodes;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (Clock::now() < deadline);
  return nodes;
}

}  // namespace

TEST_CASE("agents register, a killed agent's node goes DOWN, all re-register after a restart",
          "[integration][agents]") {
  ControllerFixture controller(
      "cluster_network: " + source_dir() + "/examples/topologies/cluster-2spine-4leaf.yaml\n" +
      "nodes: {heartbeat_interval_ms: 100, heartbeat_timeout_ms: " + std::to_string(kTimeoutMs) +
      "}\n");
  controller.start();
  const std::map<std::string, std::string> fixtures = {{"node01", "dgx1-v100"},
                                                       {"node02", "dgx-h100"},
                                                       {"node05", "pcie-4gpu-nvlink-pairs"},
                                                       {"node06", "pcie-8gpu-2socket"}};
  std::map<std::string, std::unique_ptr<ChildProcess>> agents;
  for (const auto& [node, fixture] : fixtures) {
    agents[node] = std::make_unique<ChildProcess>(
        std::vector<std::string>{agent_binary(), "--insecure", "--controller", controller.address(),
                                 "--node-name", node, "--tier0",
                                 controller.dir().file(node + "-tier0"), "--spool",
                                 controller.dir().file(node + "-spool"), "--topology",
                                 source_dir() + "/examples/topologies/" + fixture + ".yaml"},
        controller.dir().file(node + ".log"));
  }

  auto all_up = [](const std::map<std::string, nlohmann::json>& n) {
    if (n.size() != 4) return false;
    for (const auto& [name, node] : n) {
      if (node["state"] != "UP") return false;
    }
    return true;
  };
  auto nodes = by_name(wait_for(controller, all_up, std::chrono::seconds(20)));
  INFO(controller.log());
  REQUIRE(all_up(nodes));
  CHECK(nodes["node01"]["gpus"] == 8);
  CHECK(nodes["node01"]["leaf"] == "leaf1");
  CHECK(nodes["node02"]["leaf"] == "leaf1");
  CHECK(nodes["node05"]["gpus"] == 4);
  CHECK(nodes["node05"]["leaf"] == "leaf2");
  CHECK(nodes["node06"]["spine"] == "spine1");

  auto shown =
      run_program({cli_binary(), "--controller", controller.address(), "node", "show", "node01"},
                  {{"SY_CONFIG", ""}});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("GPU0  X     NV1   NV1   NV2   NV2   SYS   SYS   SYS   NODE  SYS   0") !=
        std::string::npos);
  CHECK(shown.out.find("GPU2  Tesla V100-SXM2-32GB  32G  NUMA 0  nearest NIC mlx5_0 (PIX)") !=
        std::string::npos);

  // Node loss: SIGKILL node02's agent; the node must go DOWN after the timeout, not before.
  const auto killed_at = Clock::now();
  agents["node02"]->signal(SIGKILL);
  agents["node02"]->wait(std::chrono::seconds(5));
  auto down = [](const std::map<std::string, nlohmann::json>& n) {
    return n.count("node02") && n.at("node02")["state"] == "DOWN";
  };
  nodes = by_name(wait_for(controller, down, std::chrono::milliseconds(kTimeoutMs + 3000)));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at);
  REQUIRE(down(nodes));
  // Not DOWN merely because its connection closed (that would take well under half the
  // timeout); the last heartbeat may have come a little before the kill, so not a full timeout.
  CHECK(took.count() >= kTimeoutMs / 2);
  CHECK(took.count() <= kTimeoutMs + 3000);
  CHECK(nodes["node02"]["reason"].get<std::string>().rfind("no heartbeat for", 0) == 0);
  CHECK(nodes["node01"]["state"] == "UP");

  // Drain and resume, as an operator would.
  auto drained = run_program({cli_binary(), "--controller", controller.address(), "drain", "node06",
                              "--reason", "fan replacement"},
                             {{"SY_CONFIG", ""}});
  CHECK(drained.out == "Node node06 is DRAINING\n");
  CHECK(by_name(nodes_json(controller))["node06"]["reason"] == "fan replacement");

  // Controller restart: the live agents re-register by themselves, nothing is duplicated, and
  // the node whose agent is gone stays DOWN; the drain survives the restart.
  controller.kill_hard();
  const std::string restarted_at =
      format_utc_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
  controller.start();
  // Registration times are ISO 8601 UTC strings, which sort as times do.
  auto reregistered = [&](const std::map<std::string, nlohmann::json>& n) {
    for (const char* name : {"node01", "node05", "node06"}) {
      if (!n.count(name) || n.at(name)["registered_time"].get<std::string>() < restarted_at) {
        return false;
      }
    }
    return n.size() == 4;
  };
  const auto after = wait_for(controller, reregistered, std::chrono::seconds(20));
  nodes = by_name(after);
  REQUIRE(reregistered(nodes));
  CHECK(after.size() == 4);
  std::set<std::string> names;
  for (const auto& n : after)
    names.insert(n["name"].get<std::string>());
  CHECK(names.size() == 4);
  CHECK(nodes["node01"]["state"] == "UP");
  CHECK(nodes["node06"]["state"] == "DRAINING");
  CHECK(nodes["node02"]["state"] == "DOWN");
  CHECK(nodes["node02"]["registered_time"].get<std::string>() < restarted_at);
  CHECK(run_program({cli_binary(), "--controller", controller.address(), "resume", "node06"},
                    {{"SY_CONFIG", ""}})
            .out == "Node node06 is UP\n");

  for (auto& [name, agent] : agents)
    agent->signal(SIGTERM);
  for (auto& [name, agent] : agents)
    agent->wait(std::chrono::seconds(10));
  CHECK(controller.stop() == 0);
}

TEST_CASE("the controller places submitted jobs on registered nodes", "[integration][scheduling]") {
  ControllerFixture controller("nodes: {heartbeat_interval_ms: 100, heartbeat_timeout_ms: 5000}\n");
  controller.start();
  ChildProcess agent(
      {agent_binary(), "--insecure", "--controller", controller.address(), "--node-name", "dgx1",
       "--tier0", controller.dir().file("tier0"), "--spool", controller.dir().file("spool"),
       "--topology", source_dir() + "/examples/topologies/dgx1-v100.yaml"},
      controller.dir().file("agent.log"));
  auto up = [](const std::map<std::string, nlohmann::json>& n) { return n.count("dgx1") == 1; };
  REQUIRE(up(by_name(wait_for(controller, up, std::chrono::seconds(20)))));

  TempDir dir;
  auto submit = [&](const std::string& yaml) {
    auto r = run_program({cli_binary(), "--controller", controller.address(), "submit",
                          "--parsable", dir.write("job.yaml", yaml)},
                         {{"SY_CONFIG", ""}});
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, r.out.size() - 1);
  };
  auto show = [&](const std::string& id) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    nlohmann::json job;
    do {  // a pass follows every submit; give it a moment
      auto r =
          run_program({cli_binary(), "--controller", controller.address(), "show", id, "--json"},
                      {{"SY_CONFIG", ""}});
      job = nlohmann::json::parse(r.out);
      if (job["state"] != "PENDING" || !job["reason"].get<std::string>().empty()) return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (Clock::now() < deadline);
    return job;
  };

  const std::string quad =
      submit("command: [sleep, '600']\nresources: {gpus_per_node: 4}\ntime_limit: 1h\n");
  auto placed = show(quad);
  REQUIRE((placed["state"] == "STAGING" || placed["state"] == "RUNNING"));
  CHECK(placed["placement"]["nodes"][0]["node"] == "dgx1");
  CHECK(placed["placement"]["nodes"][0]["gpus"] == nlohmann::json::array({0, 1, 2, 3}));
  CHECK(placed["placement"]["ring_link"] == "NV1");
  CHECK(by_name(nodes_json(controller))["dgx1"]["gpus_free"] == 4);

  const std::string whole =
      submit("command: [sleep, '600']\nresources: {gpus_per_node: 8}\ntime_limit: 1h\n");
  auto waiting = show(whole);
  CHECK(waiting["state"] == "PENDING");
  CHECK(waiting["reason"].get<std::string>().rfind(
            "waiting for 8 GPUs on one node; reserved to start at", 0) == 0);

  // Cancelling the quad frees its GPUs, and the waiting job takes the whole node.
  REQUIRE(run_program({cli_binary(), "--controller", controller.address(), "cancel", quad},
                      {{"SY_CONFIG", ""}})
              .exit_code == 0);
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  nlohmann::json started;
  do {
    started = show(whole);
    if (started["state"] == "RUNNING") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (Clock::now() < deadline);
  CHECK(started["state"] == "RUNNING");
  CHECK(started["placement"]["nodes"][0]["gpus"].size() == 8);

  agent.signal(SIGTERM);
  agent.wait(std::chrono::seconds(10));
  CHECK(controller.stop() == 0);
}

TEST_CASE("arrays, dependencies and node features through the real binaries",
          "[integration][scheduling]") {
  ControllerFixture controller("nodes: {heartbeat_interval_ms: 100, heartbeat_timeout_ms: 5000}\n");
  controller.start();
  ChildProcess agent({agent_binary(), "--insecure", "--controller", controller.address(),
                      "--node-name", "dgx1", "--features", "nvme,ib", "--tier0",
                      controller.dir().file("tier0"), "--spool", controller.dir().file("spool"),
                      "--topology", source_dir() + "/examples/topologies/dgx1-v100.yaml"},
                     controller.dir().file("agent.log"));
  auto up = [](const std::map<std::string, nlohmann::json>& n) { return n.count("dgx1") == 1; };
  REQUIRE(up(by_name(wait_for(controller, up, std::chrono::seconds(20)))));

  TempDir dir;
  auto sy = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {cli_binary(), "--controller", controller.address()});
    return run_program(args, {{"SY_CONFIG", ""}});
  };
  // Polls `sy show ID --json` until `done` holds (bounded); returns the last answer.
  auto job_when = [&](const std::string& id, auto done) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    nlohmann::json job;
    do {
      auto r = sy({"show", id, "--json"});
      if (r.exit_code == 0) {
        job = nlohmann::json::parse(r.out);
        if (done(job)) return job;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (Clock::now() < deadline);
    return job;
  };
  auto decided = [](const nlohmann::json& j) {
    return j["state"] != "PENDING" || !j["reason"].get<std::string>().empty();
  };

  // An array of four one-GPU tasks, two at a time.
  auto submitted =
      sy({"submit",
          dir.write("array.yaml", "command: [sleep, '600']\ntime_limit: 1h\narray: 0-3%2\n")});
  REQUIRE(submitted.exit_code == 0);
  const std::string prefix = "Submitted array job ";
  REQUIRE(submitted.out.rfind(prefix, 0) == 0);
  const std::string array =
      submitted.out.substr(prefix.size(), submitted.out.find(' ', prefix.size()) - prefix.size());
  CHECK(submitted.out == prefix + array + " (4 tasks, at most 2 at once)\n");
  const auto runs = [](const nlohmann::json& j) { return j["state"] == "RUNNING"; };
  CHECK(job_when(array + "_0", runs)["state"] == "RUNNING");
  CHECK(job_when(array + "_1", runs)["state"] == "RUNNING");
  auto third = job_when(array + "_2", decided);
  CHECK(third["state"] == "PENDING");
  CHECK(third["reason"] == "waiting: 2 tasks of array " + array + " already running (its limit)");
  CHECK(third["job_id"] == array + "_2");
  auto queue = sy({"queue"});
  CHECK(queue.out.find(array + "_3 ") != std::string::npos);

  // Node features: the node has ib and nvme, not gdr.
  auto with_ib =
      sy({"submit", "--parsable",
          dir.write("ib.yaml", "command: [sleep, '600']\nresources: {features: [ib]}\n")});
  REQUIRE(with_ib.exit_code == 0);
  CHECK(job_when(with_ib.out.substr(0, with_ib.out.size() - 1), runs)["state"] == "RUNNING");
  auto with_gdr = sy({"submit", "--parsable",
                      dir.write("gdr.yaml", "command: [t]\nresources: {features: [gdr]}\n")});
  REQUIRE(with_gdr.exit_code == 0);
  CHECK(job_when(with_gdr.out.substr(0, with_gdr.out.size() - 1), decided)["reason"] ==
        "waiting: no 1 GPUs on one node with gdr among the nodes that are up");

  // A job after the third task waits for it; when the array is cancelled it can never run.
  const std::string third_id = std::to_string(third["id"].get<std::int64_t>());
  auto after =
      sy({"submit", "--parsable",
          dir.write("after.yaml", "command: [t]\ndependencies: {after_ok: [" + third_id + "]}\n")});
  REQUIRE(after.exit_code == 0);
  const std::string after_id = after.out.substr(0, after.out.size() - 1);
  CHECK(job_when(after_id, decided)["reason"] ==
        "waiting for job " + third_id + " to complete (after_ok)");
  auto cancelled = sy({"cancel", array});
  CHECK(cancelled.exit_code == 0);
  CHECK(cancelled.out == "Cancelled 4 tasks of array " + array + "\n");
  auto dropped =
      job_when(after_id, [](const nlohmann::json& j) { return j["state"] != "PENDING"; });
  CHECK(dropped["state"] == "CANCELLED");
  CHECK(dropped["reason"] == "dependency never satisfied: job " + third_id +
                                 " did not complete successfully (after_ok)");

  // A dependency on a job that does not exist is refused at submit.
  auto bad =
      sy({"submit", dir.write("bad.yaml", "command: [t]\ndependencies: {after_any: [999999]}\n")});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("dependencies.after_any[0]: no job 999999") != std::string::npos);

  agent.signal(SIGTERM);
  agent.wait(std::chrono::seconds(10));
  CHECK(controller.stop() == 0);
}

TEST_CASE("agents report their Tier-0 caches and jobs go where their data already is",
          "[integration][datasets]") {
  // Staging assumed slow enough that this 1 MB dataset costs a second of a two-second horizon:
  // the data-affinity score then tells the two nodes apart.
  ControllerFixture controller(
      "nodes: {heartbeat_interval_ms: 100, heartbeat_timeout_ms: 5000}\n"
      "scheduler: {staging_bandwidth: 1M, staging_horizon: 2s}\n");
  controller.start();
  TempDir dir;
  for (int i = 0; i < 20; ++i)
    dir.write("shared/ds/part-" + std::to_string(i), std::string(50000, 'a' + i % 26));
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {cli_binary(), "--controller", controller.address()});
    return run_program(args, {{"SY_CONFIG", ""}, {"SY_CONTROLLER", ""}});
  };
  auto added = cli({"dataset", "add", "ds", "--source", dir.file("shared/ds"), "--json"});
  REQUIRE(added.exit_code == 0);
  const std::string version = nlohmann::json::parse(added.out)["version"];

  // node02's cache is seeded by hand; node01's is empty. Both are the same kind of machine, so
  // only where the data is tells them apart (without it the tie goes to node01).
  auto seeded = run_program({agent_binary(), "stage", "--from", dir.file("shared/ds"), "--dataset",
                             "ds", "--cache", dir.file("tier0-node02")},
                            {});
  INFO(seeded.err);
  REQUIRE(seeded.exit_code == 0);
  std::vector<std::unique_ptr<ChildProcess>> agents;
  for (const std::string node : {"node01", "node02"}) {
    agents.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{agent_binary(), "--insecure", "--controller", controller.address(),
                                 "--node-name", node, "--tier0", dir.file("tier0-" + node),
                                 "--spool", dir.file("spool-" + node), "--topology",
                                 source_dir() + "/examples/topologies/dgx1-v100.yaml"},
        controller.dir().file(node + ".log")));
  }
  auto both = [](const std::map<std::string, nlohmann::json>& n) { return n.size() == 2; };
  REQUIRE(both(by_name(wait_for(controller, both, std::chrono::seconds(20)))));

  auto shown = cli({"dataset", "show", "ds", "--json"});
  REQUIRE(shown.exit_code == 0);
  const auto holders = nlohmann::json::parse(shown.out)["nodes"];
  REQUIRE(holders.size() == 1);
  CHECK(holders[0]["node"] == "node02");
  CHECK(holders[0]["version"] == version);
  CHECK(holders[0]["current"] == true);
  CHECK(holders[0]["bytes"] == 20 * 50000);

  const auto place = [&](const std::string& yaml) {
    auto r = cli({"submit", "--parsable", dir.write("job.yaml", yaml)});
    REQUIRE(r.exit_code == 0);
    const std::string id = r.out.substr(0, r.out.size() - 1);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    nlohmann::json job;
    do {
      job = nlohmann::json::parse(cli({"show", id, "--json"}).out);
      if (job["placement"].is_object()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (Clock::now() < deadline);
    REQUIRE(job["placement"].is_object());
    return job["placement"]["nodes"][0]["node"].get<std::string>();
  };
  // Without a dataset a job takes the first of two equal nodes; with one, the node holding it.
  CHECK(place("command: [train]\nresources: {gpus_per_node: 2}\ntime_limit: 1h\n") == "node01");
  CHECK(
      place("command: [train]\nresources: {gpus_per_node: 2}\ndatasets: [ds]\ntime_limit: 1h\n") ==
      "node02");

  // Staging on demand: node01's agent copies it, verified, and now holds it too.
  auto staged = cli({"stage", "ds", "--node", "node01"});
  INFO(staged.err);
  REQUIRE(staged.exit_code == 0);
  CHECK(staged.out.rfind("ds@" + version + " is on node01: 976.6 KiB copied and verified in ", 0) ==
        0);
  const std::string copy = dir.file("tier0-node01/ds@" + version + "/part-3");
  CHECK(run_program({"/usr/bin/cmp", copy, dir.file("shared/ds/part-3")}, {}).exit_code == 0);
  auto holders_now = nlohmann::json::parse(cli({"dataset", "show", "ds", "--json"}).out)["nodes"];
  CHECK(holders_now.size() == 2);

  // A staged file written in place is found and copied again; nothing else is.
  REQUIRE(::chmod(copy.c_str(), 0644) == 0);
  dir.write("tier0-node01/ds@" + version + "/part-3", std::string(50000, 'Z'));
  auto repaired = cli({"stage", "ds", "--node", "node01", "--json"});
  REQUIRE(repaired.exit_code == 0);
  CHECK(nlohmann::json::parse(repaired.out)["bytes_copied"] == 50000);
  CHECK(run_program({"/usr/bin/cmp", copy, dir.file("shared/ds/part-3")}, {}).exit_code == 0);

  // A source that lost a file since it was registered fails with the file named; nothing is
  // published.
  dir.write("shared/gone/a", "aaaa");
  dir.write("shared/gone/b", "bbbb");
  REQUIRE(cli({"dataset", "add", "gone", "--source", dir.file("shared/gone")}).exit_code == 0);
  std::filesystem::remove(dir.file("shared/gone/b"));
  auto broken = cli({"stage", "gone", "--node", "node01"});
  CHECK(broken.exit_code == 1);
  CHECK(broken.err.find("gone/b") != std::string::npos);
  CHECK(nlohmann::json::parse(cli({"dataset", "show", "gone", "--json"}).out)["nodes"].empty());
  CHECK(cli({"stage", "ds", "--node", "node09"}).exit_code == 1);

  for (auto& a : agents)
    a->signal(SIGTERM);
  for (auto& a : agents)
    a->wait(std::chrono::seconds(10));
  CHECK(controller.stop() == 0);
}

TEST_CASE(
    "jobs with datasets are staged, verified, started, and resume staging after an agent dies",
    "[integration][datasets][jobs]") {
  ControllerFixture controller(
      "nodes: {heartbeat_interval_ms: 100, heartbeat_timeout_ms: 5000}\n"
      "scheduler: {staging_bandwidth: 1M, staging_horizon: 2s}\n");
  controller.start();
  TempDir dir;
  constexpr int kFiles = 60, kFileBytes = 50000;
  for (int i = 0; i < kFiles; ++i)
    dir.write("shared/ds/part-" + std::to_string(i), std::string(kFileBytes, 'a' + i % 26));
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {cli_binary(), "--controller", controller.address()});
    return run_program(args, {{"SY_CONFIG", ""}, {"SY_CONTROLLER", ""}});
  };
  REQUIRE(cli({"dataset", "add", "ds", "--source", dir.file("shared/ds")}).exit_code == 0);

  // Agents read from shared storage at 1 MiB/s: a stage of this 2.9 MiB dataset takes about
  // three seconds, long enough to kill an agent in the middle of one.
  const auto agent_argv = [&](const std::string& node) {
    return std::vector<std::string>{
        agent_binary(),      "--insecure",
        "--controller",      controller.address(),
        "--node-name",       node,
        "--tier0",           dir.file("tier0-" + node),
        "--spool",           dir.file("spool-" + node),
        "--stage-bandwidth", "1M",
        "--topology",        source_dir() + "/examples/topologies/dgx1-v100.yaml"};
  };
  std::map<std::string, std::unique_ptr<ChildProcess>> agents;
  for (const std::string node : {"node01", "node02"}) {
    agents[node] =
        std::make_unique<ChildProcess>(agent_argv(node), controller.dir().file(node + ".log"));
  }
  auto both = [](const std::map<std::string, nlohmann::json>& n) { return n.size() == 2; };
  REQUIRE(both(by_name(wait_for(controller, both, std::chrono::seconds(20)))));

  const auto submit = [&](const std::string& file, const std::string& yaml) {
    auto r = cli({"submit", "--parsable", dir.write(file, yaml)});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, r.out.size() - 1);
  };
  const auto show = [&](const std::string& id) {
    auto r = cli({"show", id, "--json"});
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
  };
  const auto job_when = [&](const std::string& id, auto done, int seconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    nlohmann::json job;
    do {
      job = show(id);
      if (done(job)) return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (Clock::now() < deadline);
    return job;
  };
  const auto ended = [](const nlohmann::json& j) {
    return j.value("state", "") == "COMPLETED" || j.value("state", "") == "FAILED" ||
           j.value("state", "") == "CANCELLED";
  };
  // A process of ours, found by its exact command line.
  const auto running = [](const std::string& cmdline) {
    for (const auto& p : std::filesystem::directory_iterator("/proc")) {
      std::ifstream in(p.path() / "cmdline");
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text == cmdline) return true;
    }
    return false;
  };

  const std::string sleeper = std::string("sleep") + '\0' + "613" + '\0';
  // node01 is taken by a long job, so the dataset job goes to node02.
  const std::string blocker =
      submit("blocker.yaml", "command: [sleep, '613']\nresources: {gpus_per_node: 8}\n");
  auto blocking = job_when(
      blocker, [](const auto& j) { return j.value("state", "") == "RUNNING"; }, 20);
  REQUIRE(blocking["state"] == "RUNNING");
  CHECK(blocking["placement"]["nodes"][0]["node"] == "node01");
  CHECK(running(sleeper));

  // The job checks what it sees: its dataset's local copy, identical to the source.
  const std::string reader =
      "command: [bash, -c, 'test -d \"$SY_DATASETS_DIR/ds\" && test \"$CUDA_VISIBLE_DEVICES\" = "
      "0,1,2,3,4,5,6,7 && for i in $(seq 0 59); do cmp \"$SY_DATASET_DS/part-$i\" " +
      dir.file("shared/ds") + "/part-$i || exit 1; done']\n" +
      "datasets: [ds]\nresources: {gpus_per_node: 8}\ntime_limit: 10m\n";
  const std::string first = submit("first.yaml", reader);
  // Kill node02's agent once it has copied two thirds of the dataset (its journal of synced
  // files is written every second, so some of that is on record).
  auto halfway = job_when(
      first,
      [](const nlohmann::json& j) {
        return j.contains("staging") && j["staging"].size() == 1 &&
               j["staging"][0].value("bytes_done", std::int64_t{0}) >= kFiles * kFileBytes * 2 / 3;
      },
      30);
  REQUIRE(halfway["state"] == "STAGING");
  CHECK(halfway["placement"]["nodes"][0]["node"] == "node02");
  agents["node02"]->signal(SIGKILL);
  agents["node02"]->wait(std::chrono::seconds(10));
  agents["node02"] =
      std::make_unique<ChildProcess>(agent_argv("node02"), controller.dir().file("node02.log"));
  auto done = job_when(first, ended, 60);
  INFO(done.dump(2));
  REQUIRE(done["state"] == "COMPLETED");
  CHECK(done["exit_code"] == 0);
  // The cut order failed with the agent; the one after it copied only what was left.
  REQUIRE(done["staging"].size() == 2);
  CHECK(done["staging"][0]["state"] == "failed");
  CHECK(done["staging"][0]["error"]["kind"] == "agent");
  CHECK(done["staging"][1]["state"] == "done");
  const auto resumed_bytes = done["staging"][1]["bytes_copied"].get<std::int64_t>();
  CHECK(resumed_bytes > 0);
  CHECK(resumed_bytes < kFiles * kFileBytes);
  CHECK(resumed_bytes % kFileBytes == 0);  // whole files: none was copied twice in part

  // Cancelling the long job ends its process on node01.
  REQUIRE(cli({"cancel", blocker}).exit_code == 0);
  const auto stop_deadline = Clock::now() + std::chrono::seconds(10);
  while (running(sleeper) && Clock::now() < stop_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(running(sleeper));

  // Both nodes free now: the same dataset takes the job to node02, where it is, and nothing is
  // copied: the agent checks its copy and finds it intact.
  const std::string second = submit("second.yaml", reader);
  auto again = job_when(second, ended, 30);
  INFO(again.dump(2));
  CHECK(again["state"] == "COMPLETED");
  CHECK(again["placement"]["nodes"][0]["node"] == "node02");
  REQUIRE(again["staging"].size() == 1);
  CHECK(again["staging"][0]["bytes_copied"] == 0);

  // A staged file changed behind the cache's back is found before the next job starts, and
  // only that file is copied again.
  const auto version = again["staging"][0]["version"].get<std::string>();
  const std::string copy = dir.file("tier0-node02/ds@" + version + "/part-7");
  REQUIRE(::chmod(copy.c_str(), 0644) == 0);
  dir.write("tier0-node02/ds@" + version + "/part-7", std::string(kFileBytes, 'Z'));
  const std::string third = submit("third.yaml", reader);
  auto repaired = job_when(third, ended, 30);
  INFO(repaired.dump(2));
  CHECK(repaired["state"] == "COMPLETED");
  REQUIRE(repaired["staging"].size() == 1);
  CHECK(repaired["staging"][0]["bytes_copied"] == kFileBytes);

  // A copy removed behind the agent's back (the controller still thinks node02 holds it): the
  // check finds it missing and the whole copy is ordered again.
  std::filesystem::remove_all(dir.file("tier0-node02/ds@" + version));
  std::filesystem::remove(dir.file("tier0-node02/.ds@" + version + ".verified"));
  auto recopied = job_when(submit("fourth.yaml", reader), ended, 30);
  INFO(recopied.dump(2));
  CHECK(recopied["state"] == "COMPLETED");
  REQUIRE(recopied["staging"].size() == 2);
  CHECK(recopied["staging"][0]["error"]["kind"] == "missing");
  CHECK(recopied["staging"][1]["bytes_copied"] == kFiles * kFileBytes);

  // Stage-out: what the job wrote below its working directory is on shared storage, verified,
  // before it counts as COMPLETED; an output it never wrote fails it with the reason.
  auto staged_out = job_when(submit("out.yaml",
                                    "command: [bash, -c, 'mkdir -p ckpt/step1 && echo weights > "
                                    "ckpt/step1/model.bin']\noutputs: [{path: ckpt/, to: " +
                                        dir.file("shared/runs/r1") + "}]\n"),
                             ended, 30);
  INFO(staged_out.dump(2));
  CHECK(staged_out["state"] == "COMPLETED");
  CHECK(read_file(dir.file("shared/runs/r1/step1/model.bin")) == "weights\n");
  auto no_output = job_when(submit("noout.yaml", "command: ['true']\noutputs: [{path: ckpt, to: " +
                                                     dir.file("shared/runs/r2") + "}]\n"),
                            ended, 30);
  CHECK(no_output["state"] == "FAILED");
  CHECK(no_output["reason"].get<std::string>().rfind(
            "exited with code 0; stage-out failed: ckpt -> " + dir.file("shared/runs/r2") +
                ": refused: ",
            0) == 0);

  // A job whose command fails, and one that cannot start, fail with the reason.
  auto failing = job_when(submit("fail.yaml", "command: [bash, -c, 'exit 3']\n"), ended, 20);
  CHECK(failing["state"] == "FAILED");
  CHECK(failing["exit_code"] == 3);
  CHECK(failing["reason"] == "exited with code 3");
  auto missing = job_when(submit("missing.yaml", "command: [no-such-program-here]\n"), ended, 20);
  CHECK(missing["state"] == "FAILED");
  CHECK(missing["reason"].get<std::string>().find("cannot run 'no-such-program-here'") !=
        std::string::npos);

  // A job past its time limit (counted from its start) is stopped and fails saying so.
  auto timed_out =
      job_when(submit("limit.yaml", "command: [sleep, '615']\ntime_limit: 3s\n"), ended, 30);
  CHECK(timed_out["state"] == "FAILED");
  CHECK(timed_out["reason"] == "killed by signal 15 (time limit of 00:00:03 reached)");

  // Pre-staging: with both nodes busy, a job that waits for one has its dataset copied to the
  // node it is reserved on while it waits.
  dir.write("shared/next/a", std::string(1000, 'n'));
  REQUIRE(cli({"dataset", "add", "next", "--source", dir.file("shared/next")}).exit_code == 0);
  const std::string busy =
      "command: [sleep, '614']\nresources: {gpus_per_node: 8}\ntime_limit: 5m\n";
  const std::string busy1 = submit("busy1.yaml", busy), busy2 = submit("busy2.yaml", busy);
  const auto runs = [](const nlohmann::json& j) { return j.value("state", "") == "RUNNING"; };
  REQUIRE(job_when(busy1, runs, 20)["state"] == "RUNNING");
  REQUIRE(job_when(busy2, runs, 20)["state"] == "RUNNING");
  const std::string waiter =
      submit("waiter.yaml", "command: ['true']\nresources: {gpus_per_node: 8}\ndatasets: [next]\n");
  nlohmann::json holders;
  const auto held_deadline = Clock::now() + std::chrono::seconds(20);
  do {
    holders = nlohmann::json::parse(cli({"dataset", "show", "next", "--json"}).out)["nodes"];
    if (!holders.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (Clock::now() < held_deadline);
  REQUIRE(holders.size() == 1);
  CHECK(show(waiter)["state"] == "PENDING");
  const std::string reserved_on = holders[0]["node"];
  REQUIRE(cli({"cancel", busy1, busy2}).exit_code == 0);
  auto started = job_when(waiter, ended, 30);
  CHECK(started["state"] == "COMPLETED");
  CHECK(started["placement"]["nodes"][0]["node"] == reserved_on);
  CHECK(started["staging"][0]["bytes_copied"] == 0);  // it was there already

  for (auto& [name, agent] : agents)
    agent->signal(SIGTERM);
  for (auto& [name, agent] : agents)
    agent->wait(std::chrono::seconds(10));
  CHECK(controller.stop() == 0);
}

TEST_CASE("the agent refuses hostile manifests and symlinks out of a dataset",
          "[integration][datasets]") {
  TempDir dir;
  dir.write("src/ok.bin", "fine");
  // A manifest (as a stage order carries it) naming a path outside the destination.
  const nlohmann::json hostile = {{"name", "ds"},
                                  {"files",
                                   {{{"path", "../../etc/passwd"},
                                     {"size", 4},
                                     {"mtime_ns", 0},
                                     {"digest", "0000000000000001"}}}}};
  auto refused = run_program({agent_binary(), "stage", "--from", dir.file("src"), "--to",
                              dir.file("dst"), "--manifest", dir.write("m.json", hostile.dump())},
                             {});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("files[0].path") != std::string::npos);
  CHECK(refused.err.find("..") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("dst")));

  // A symlink in the source pointing out of it is refused by name; nothing is published.
  REQUIRE(::symlink("/etc/passwd", dir.file("src/passwd").c_str()) == 0);
  auto linked = run_program(
      {agent_binary(), "stage", "--from", dir.file("src"), "--to", dir.file("dst")}, {});
  CHECK(linked.exit_code == 1);
  CHECK(linked.err.find(dir.file("src/passwd") + ": is a symlink") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("dst")));
}
