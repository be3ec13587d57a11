// The fleet harness at CI size: a real sy-controller, a simulated fleet of agents, a queue, a
// paced load and a SIGKILL of the controller while jobs run (bench/fleet at reduced size; the
// full-size figures are a benchmark, docs/benchmarks.md). Every job must complete exactly once.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;

namespace {

// sy-bench-fleet with these options (DGX H100 nodes, a fresh state directory): its report, once
// it has exited 0 (every check of its own passed).
nlohmann::json run_fleet(std::vector<std::string> options, int seconds) {
  TempDir dir;
  const std::string json = dir.file("fleet.json");
  std::vector<std::string> argv{SY_BENCH_FLEET_BIN,
                                "--controller-binary",
                                SY_FLEET_CONTROLLER_BIN,
                                "--state-dir",
                                dir.file("state"),
                                "--topology",
                                std::string(SY_SOURCE_DIR) + "/examples/topologies/dgx-h100.yaml",
                                "--json",
                                json};
  argv.insert(argv.end(), options.begin(), options.end());
  const auto r = run_program(argv, {}, std::chrono::seconds(seconds));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto report = nlohmann::json::parse(std::ifstream(json));
  INFO(report.dump(2));
  CHECK(report["failed_checks"].empty());
  return report;
}

}  // namespace

TEST_CASE("fleet: simulated nodes, a queue, a load and a controller restart lose no job",
          "[integration][fleet][recovery]") {
  constexpr int kNodes = 500, kQueued = 3000, kRate = 100, kSeconds = 20, kIdle = 5;
  // Launch orders lost with their agents' connections: sent again when the agents are back.
  constexpr int kLost = 20;
  // Jobs last 3-8 s, so that hundreds run when the controller is killed. (~40 s under ASan.)
  const auto report =
      run_fleet({"--nodes", std::to_string(kNodes), "--queued", std::to_string(kQueued), "--rate",
                 std::to_string(kRate), "--seconds", std::to_string(kSeconds), "--idle-latency",
                 std::to_string(kIdle), "--duration-ms", "3000-8000", "--restart",
                 "--lose-launches", std::to_string(kLost), "--drain-seconds", "300"},
                560);
  INFO(report.dump(2));
  const int submitted = kIdle + kQueued + kRate * kSeconds;
  CHECK(report["drain"]["submitted"].get<int>() == submitted);
  CHECK(report["drain"]["completed"].get<int>() == submitted);
  CHECK(report["drain"]["drained"].get<bool>());
  CHECK(report["idle_submit_to_running"]["count"].get<int>() == kIdle);
  // The restart happened with work in flight, and cost none of it.
  CHECK(report["restart"]["running_at_kill"].get<int>() > 0);
  CHECK(report["restart"]["jobs_failed"].get<double>() == 0);
  CHECK(report["restart"]["nodes_up"].get<int>() == kNodes);
  CHECK(report["fleet"]["launched_twice"].get<int>() == 0);
  CHECK(report["fleet"]["errors_from_controller"].get<int>() == 0);
  // Every job launched once, and every launch ended (no job started on a second node).
  CHECK(report["fleet"]["launches"].get<int>() == submitted);
  CHECK(report["fleet"]["lost_launches"].get<int>() == kLost);
  CHECK(report["passes"]["count"].get<double>() > 0);
}

TEST_CASE("fleet: a job whose agent restarted before its launch order arrived fails, unstarted",
          "[integration][fleet]") {
  constexpr int kNodes = 20, kQueued = 200, kLost = 10;
  const auto report =
      run_fleet({"--nodes", std::to_string(kNodes), "--queued", std::to_string(kQueued),
                 "--duration-ms", "500-1500", "--lose-launches", std::to_string(kLost),
                 "--lost-as-restart", "--drain-seconds", "120"},
                200);
  INFO(report.dump(2));
  CHECK(report["fleet"]["lost_launches"].get<int>() == kLost);
  // Each lost connection also took the orders sent after the lost one (a pass places up to 8
  // jobs on a node at once): at least kLost jobs fail, and every one that fails is lost.
  const int failed = report["drain"]["failed"].get<int>();
  CHECK(failed >= kLost);
  CHECK(report["drain"]["completed"].get<int>() + failed == kQueued);
  // A restarted agent may have run what it had: the job is lost, never started a second time.
  CHECK(report["fleet"]["launches"].get<int>() == kQueued - failed);
  CHECK(report["fleet"]["launched_twice"].get<int>() == 0);
  REQUIRE(!report["drain"]["not_completed"].empty());
  for (const auto& j : report["drain"]["not_completed"]) {
    CHECK(j.value("state", "") == "FAILED");
    CHECK(j.value("reason", "").find("registered again without it (the agent restarted)") !=
          std::string::npos);
  }
}
