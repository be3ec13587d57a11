// sy-bench-submit: durable submits per second through the REST API.
// N clients, each on its own kept-alive connection, submit their share of the jobs one after
// another (each waits for its acknowledgement, which comes only after the commit).
//
//   sy-bench-submit --controller HOST:PORT --clients 16 --jobs 20000
// prints one line: RESULT clients=16 jobs=20000 seconds=... submits_per_s=... p50_ms=... p99_ms=...
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "common/command_line/command_line.hpp"
#include "common/endpoint.hpp"
#include "common/http_client.hpp"

namespace {}  // namespace

int main(int argc, char** argv) {
  std::string address;
  int clients = 1, jobs = 1000;
  CLI::App app{"", "sy-bench-submit"};
  sy::command_line::set_up_program(
      app,
      "submits M one-GPU jobs from N clients to a controller run --insecure and prints the\n"
      "durable submits per second and the latency percentiles (docs/benchmarks.md).");
  app.add_option("--controller", address, "the controller")->required()->type_name("HOST:PORT");
  app.add_option("--clients", clients, "concurrent clients (default 1)")
      ->check(CLI::Range(1, 10000))
      ->type_name("N");
  app.add_option("--jobs", jobs, "jobs in all, at least one per client (default 1000)")
      ->check(CLI::Range(1, 100000000))
      ->type_name("M");
  if (const auto stop = sy::command_line::parse(app, argc, argv)) return *stop;
  auto endpoint = sy::parse_endpoint(address, sy::kDefaultControllerPort);
  if (!endpoint)
    return std::cerr << "sy-bench-submit: --controller: " << endpoint.error() << "\n", 2;
  if (jobs < clients) return std::cerr << "sy-bench-submit: --jobs must be at least --clients\n", 2;

  const std::string body =
      R"({"name":"bench","command":["train.py","--epochs","1"],"resources":{"gpus_per_node":1}})";
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::atomic<int> failures{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      sy::HttpClient http(endpoint.value(), std::chrono::seconds(30));
      const int share = jobs / clients + (c < jobs % clients ? 1 : 0);
      const sy::HttpHeaders headers = {{"X-Sy-User", "bench"},
                                       {"Content-Type", "application/json"}};
      for (int i = 0; i < share; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto res = http.request("POST", "/v1/jobs", body, headers);
        if (!res || res->status != 201) failures++;
        latencies[static_cast<std::size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
      }
    });
  }
  for (auto& t : threads)
    t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (const auto& v : latencies)
    all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[static_cast<std::size_t>(p * (all.size() - 1))]; };
  std::cout << "RESULT clients=" << clients << " jobs=" << jobs << " failures=" << failures
            << " seconds=" << seconds << " submits_per_s=" << jobs / seconds
            << " p50_ms=" << pct(0.5) << " p99_ms=" << pct(0.99) << "\n";
  return failures == 0 ? 0 : 1;
}
