// Acknowledged submits survive a SIGKILL of the controller at a random moment: 4 clients
// submit 2,000 jobs in all, the controller is killed mid-stream and restarted, the clients
// retry what was not acknowledged (same Idempotency-Key), and afterwards every acknowledged
// job is in the queue exactly once.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "tests/support/controller_fixture.hpp"

using namespace sy;
using namespace sy::test;

TEST_CASE("no acknowledged job is lost or duplicated when the controller is SIGKILLed",
          "[integration][crash]") {
  constexpr int kClients = 4, kJobsPerClient = 500, kTotal = kClients * kJobsPerClient;
  // The kill moment is random but reproducible: SY_CRASH_SEED repeats a failing run.
  const char* seed_env = std::getenv("SY_CRASH_SEED");
  const unsigned seed =
      seed_env ? static_cast<unsigned>(std::atoi(seed_env)) : std::random_device{}();
  std::mt19937 rng(seed);
  const int kill_after_acks = std::uniform_int_distribution<int>(100, kTotal - 400)(rng);
  INFO("SY_CRASH_SEED=" << seed << " (kill after " << kill_after_acks << " acknowledgements)");

  ControllerFixture controller;
  controller.start();
  const Endpoint endpoint = controller.endpoint();

  std::mutex mutex;
  std::map<std::string, std::int64_t> acked;  // Idempotency-Key -> job id
  std::atomic<int> ack_count{0};
  std::atomic<int> transport_failures{0};

  auto client = [&](int c) {
    HttpClient http(endpoint, std::chrono::seconds(10));
    for (int i = 0; i < kJobsPerClient; ++i) {
      const std::string key = "crash-" + std::to_string(c) + "-" + std::to_string(i);
      const std::string body = R"({"name":"c)" + std::to_string(c) + "-" + std::to_string(i) +
                               R"(","command":["true"]})";
      const HttpHeaders headers = {
          {"X-Sy-User", "crash"}, {"Content-Type", "application/json"}, {"Idempotency-Key", key}};
      // Retry (bounded) until acknowledged, as a client whose controller restarts would.
      for (int attempt = 0;; ++attempt) {
        REQUIRE(attempt < 1000);
        auto res = http.request("POST", "/v1/jobs", body, headers);
        if (res && (res->status == 201 || res->status == 200)) {
          const auto id = nlohmann::json::parse(res->body)["id"].get<std::int64_t>();
          std::lock_guard<std::mutex> lock(mutex);
          auto [it, inserted] = acked.emplace(key, id);
          CHECK(it->second == id);  // a retry must name the job the first try created
          if (inserted) ack_count++;
          break;
        }
        transport_failures++;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  };

  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back(client, c);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (ack_count < kill_after_acks && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const int acked_before_kill = ack_count;
  controller.kill_hard();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // clients see the outage
  controller.start();
  for (auto& t : clients)
    t.join();

  INFO("acknowledged before the kill: " << acked_before_kill
                                        << ", transport failures: " << transport_failures);
  REQUIRE(acked.size() == static_cast<std::size_t>(kTotal));
  CHECK(acked_before_kill < kTotal);  // the kill really happened mid-stream

  HttpClient reader(endpoint, std::chrono::seconds(30));
  auto res = reader.request("GET", "/v1/jobs?state=all&limit=10000", "", {{"X-Sy-User", "root"}});
  REQUIRE(res.ok());
  REQUIRE(res->status == 200);
  const auto jobs = nlohmann::json::parse(res->body)["jobs"];
  std::map<std::int64_t, std::string> by_id;
  std::map<std::string, int> name_count;
  for (const auto& j : jobs) {
    by_id[j["id"].get<std::int64_t>()] = j["name"].get<std::string>();
    name_count[j["name"].get<std::string>()]++;
  }
  CHECK(jobs.size() == static_cast<std::size_t>(kTotal));  // nothing twice, nothing extra
  for (const auto& [key, id] : acked) {
    INFO(key);
    REQUIRE(by_id.count(id) == 1);
    CHECK(by_id[id] == "c" + key.substr(6));  // the id names the job that was submitted
  }
  for (const auto& [name, count] : name_count)
    CHECK(count == 1);
  CHECK(controller.stop() == 0);
}
