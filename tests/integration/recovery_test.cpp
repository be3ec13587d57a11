// After a controller restart the fleet re-registers at its own pace: nodes that were up are not
// declared DOWN (and their jobs not failed) while it does, only once the recovery window closes.
// And retention: ended jobs past their age leave the database for the archive.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/fake_agent.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string write_job(const TempDir& dir, const std::string& name, const std::string& yaml) {
  const std::string path = dir.file(name);
  std::ofstream(path) << yaml;
  return path;
}

std::map<std::string, nlohmann::json> nodes_by_name(const SyCli& cli) {
  std::map<std::string, nlohmann::json> out;
  auto r = cli.run({"nodes", "--json"});
  if (r.exit_code != 0) return out;
  for (const auto& n : nlohmann::json::parse(r.out, nullptr, false))
    out[n.value("name", "")] = n;
  return out;
}

}  // namespace

TEST_CASE("recovery: a slow fleet re-registers after a restart without losing running jobs",
          "[integration][agents][recovery]") {
  TempDir dir;
  // Two nodes: the recovery window is 1 s + 2 x 3 s = 7 s, far past the heartbeat timeout.
  ControllerFixture controller(
      "nodes: {heartbeat_interval_ms: 100, heartbeat_timeout_ms: 1000, "
      "recovery_per_node_ms: 3000}\n");
  controller.start();
  auto busy = start_fake_agent(controller, dir, "busy");
  auto lost = start_fake_agent(controller, dir, "lost");
  SyCli cli{controller.address(), {}, {}};
  REQUIRE(eventually([&] { return cli.nodes_up() == 2; }, std::chrono::seconds(20)));
  const std::string id = cli.submit(
      write_job(dir, "long.yaml",
                "name: long\nresources: {gpus_per_node: 8}\ncommand: [sh, -c, 'sleep 600']\n"));
  REQUIRE(eventually([&] { return cli.show(id).value("state", "") == "RUNNING"; },
                     std::chrono::seconds(30)));
  const std::string node = cli.show(id)["placement"]["nodes"][0].value("node", "");
  auto& holder = node == "busy" ? busy : lost;
  auto& other = node == "busy" ? lost : busy;
  const std::string other_name = node == "busy" ? "lost" : "busy";

  // The controller dies; one agent is gone for good, the one running the job is slow to come
  // back (stopped for 3 s: three heartbeat timeouts).
  controller.kill_hard();
  other->signal(SIGKILL);
  other->wait(std::chrono::seconds(5));
  holder->signal(SIGSTOP);
  const auto restarted = Clock::now();
  controller.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto nodes = nodes_by_name(cli);
  INFO(controller.log());
  REQUIRE(nodes.size() == 2);
  for (const auto& [name, n] : nodes) {
    CHECK(n.value("state", "") == "UP");
    CHECK(n.value("reason", "") == "awaiting its agent after a controller restart");
  }
  holder->signal(SIGCONT);
  REQUIRE(eventually([&] { return nodes_by_name(cli)[node].value("reason", "x").empty(); },
                     std::chrono::seconds(10)));
  // The node that never came back goes DOWN when the window closes, not before.
  REQUIRE(eventually([&] { return nodes_by_name(cli)[other_name].value("state", "") == "DOWN"; },
                     std::chrono::seconds(20)));
  CHECK(Clock::now() - restarted >= std::chrono::milliseconds(6500));
  const auto job = cli.show(id);
  CHECK(job.value("state", "") == "RUNNING");  // neither failed nor requeued
  for (const auto& e : job["events"])
    CHECK(e.value("event", "") != "requeue");
  CHECK(cli.run({"cancel", id}).exit_code == 0);
  CHECK(cli.ended(id, 30).value("state", "") == "CANCELLED");
  holder->signal(SIGTERM);
  holder->wait(std::chrono::seconds(10));
  CHECK(controller.stop() == 0);
}

TEST_CASE("retention: ended jobs past their age are archived and pruned, younger ones stay",
          "[integration][retention]") {
  TempDir dir;
  ControllerFixture controller("store: {keep_ended_jobs: 3s}\n");
  controller.start();
  auto agent = start_fake_agent(controller, dir, "node01");
  SyCli cli{controller.address(), {}, {}};
  REQUIRE(eventually([&] { return cli.nodes_up() == 1; }, std::chrono::seconds(20)));
  const std::string old_id = cli.submit(write_job(
      dir, "old.yaml", "name: old\nresources: {gpus_per_node: 1}\ncommand: [echo, hello]\n"));
  REQUIRE(cli.ended(old_id, 30).value("state", "") == "COMPLETED");
  REQUIRE(cli.run({"logs", old_id}).out.find("hello") != std::string::npos);
  const fs::path log = controller.dir().file("state") + "/logs/" + old_id + ".log";
  CHECK(fs::exists(log));
  // A running job is never pruned, however long it runs.
  const std::string running = cli.submit(write_job(
      dir, "run.yaml", "name: run\nresources: {gpus_per_node: 1}\ncommand: [sleep, '600']\n"));
  REQUIRE(eventually([&] { return cli.show(old_id).empty(); }, std::chrono::seconds(15)));
  CHECK(cli.run({"show", old_id}).exit_code != 0);
  CHECK_FALSE(fs::exists(log));
  CHECK(cli.show(running).value("state", "") == "RUNNING");
  // The pruned job's record is in this month's archive, whole.
  bool archived = false;
  for (const auto& f : fs::directory_iterator(controller.dir().file("state") + "/archive")) {
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (std::to_string(j.value("id", 0)) != old_id) continue;
      archived = true;
      CHECK(j.value("state", "") == "COMPLETED");
      CHECK(j["events"].size() >= 4);
    }
  }
  CHECK(archived);
  // What ended recently is still listed.
  const std::string young = cli.submit(write_job(
      dir, "young.yaml", "name: young\nresources: {gpus_per_node: 1}\ncommand: [echo, young]\n"));
  REQUIRE(cli.ended(young, 30).value("state", "") == "COMPLETED");
  CHECK(cli.run({"queue", "--all"}).out.find("young") != std::string::npos);
  CHECK(cli.run({"cancel", running}).exit_code == 0);
  agent->signal(SIGTERM);
  agent->wait(std::chrono::seconds(10));
  CHECK(controller.stop() == 0);
}
