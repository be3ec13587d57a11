// sy-bench-fleet: a real sy-controller against a simulated fleet (FakeFleet) and a load
// generator, in phases:
//   1. register: N nodes connect and register (time until all are);
//   2. idle latency: K one-GPU jobs, one at a time: submit -> launch order at its node;
//   3. fill: Q jobs queued as fast as C clients can;
//   4. sustain: R submits/s for S seconds while jobs start and end; submit latency, the first
//      page of the queue (as `sy queue` asks it) every half second;
//   5. restart (--restart): SIGKILL the controller with what runs, start it again: time until
//      every node is registered again, and no running job failed, requeued or started twice;
//   6. drain (--drain-seconds T): wait until every job has ended; all must have COMPLETED.
// Then the controller's memory, its database's size and its scheduling passes (/metrics).
// Prints one RESULT line and, with --json FILE, every figure. Exits 1 when a check failed: a
// refused submit, a job launched twice, a job lost in the restart, a job not completed.
// --lose-launches N drops the first N launch orders with their agents' connections: the
// controller must send each again to the agent that comes back (or, --lost-as-restart, fail
// exactly those jobs, whose agents come back as new processes).
//
//   sy-bench-fleet --controller-binary build/release/controller/sy-controller
//     --state-dir /tmp/fleet --topology examples/topologies/dgx-h100.yaml --nodes 10000
//     --queued 100000 --rate 1000 --seconds 60 --duration-ms 30000-120000 --restart
//     --json fleet.json                        (one command; bench/fleet/run runs it)
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/fleet/controller_process.hpp"
#include "bench/fleet/fake_fleet.hpp"
#include "common/command_line/command_line.hpp"
#include "common/http_client.hpp"
#include "common/topology/topology_file.hpp"

namespace {

using namespace sy;
using Steady = std::chrono::steady_clock;

struct Options {
  std::string controller_binary, state_dir, topology, json_out, config_yaml;
  int nodes = 100, gpus_per_job = 1, queued = 0, rate = 0, seconds = 0, clients = 8;
  int idle_latency = 0, drain_seconds = 0, connects_per_s = 0, register_seconds = 120;
  int lose_launches = 0;
  std::int64_t min_ms = 1000, max_ms = 1000;
  bool restart = false, lost_as_restart = false;
};

int usage(const std::string& why) {
  std::cerr << "sy-bench-fleet: " << why << "\n(see sy-bench-fleet --help)\n";
  return 2;
}

double ms_since(Steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

struct Latencies {
  std::vector<double> ms;
  nlohmann::json summary() {
    std::sort(ms.begin(), ms.end());
    auto pct = [&](double p) {
      return ms.empty() ? 0.0
                        : ms[static_cast<std::size_t>(p * static_cast<double>(ms.size() - 1))];
    };
    return {{"count", ms.size()},
            {"p50_ms", pct(0.5)},
            {"p99_ms", pct(0.99)},
            {"max_ms", ms.empty() ? 0.0 : ms.back()}};
  }
};

const HttpHeaders kHeaders = {{"X-Sy-User", "bench"}, {"Content-Type", "application/json"}};

std::string job_body(int gpus) {
  return nlohmann::json{{"name", "fleet"},
                        {"command", {"train.py"}},
                        {"resources", {{"gpus_per_node", gpus}}},
                        {"time_limit", "1h"}}
      .dump();
}

// Metrics as name{labels} -> value, from the text exposition.
std::map<std::string, double> scrape(const Endpoint& at) {
  std::map<std::string, double> out;
  HttpClient http(at, std::chrono::seconds(60));
  auto r = http.request("GET", "/metrics", "", {});
  if (!r || r->status != 200) return out;
  std::size_t start = 0;
  const std::string& text = r->body;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

double metric(const std::map<std::string, double>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

// The controller's scheduling passes, over each of its lives (a restart starts its metrics
// again): how many, how long in all, the longest, and how many within 10 ms, 100 ms and 1 s.
void add_passes(nlohmann::json& passes, const std::map<std::string, double>& m) {
  auto add = [&](const std::string& key, double v) { passes[key] = passes.value(key, 0.0) + v; };
  add("count", metric(m, "sy_scheduling_pass_seconds_count"));
  add("seconds_total", metric(m, "sy_scheduling_pass_seconds_sum"));
  for (const char* le : {"0.01", "0.1", "1"}) {
    add(std::string("within_") + le + "s",
        metric(m, std::string("sy_scheduling_pass_seconds_bucket{le=\"") + le + "\"}"));
  }
  passes["max_seconds"] =
      std::max(passes.value("max_seconds", 0.0), metric(m, "sy_scheduling_pass_max_seconds"));
}

// Submits `count` jobs from `clients` threads, paced at `rate` per second in all (0: as fast as
// they go). Latencies and failures are added to the totals.
void submit_load(const Endpoint& at, int count, int rate, int clients, int gpus, Latencies& lat,
                 std::atomic<int>& failures) {
  std::vector<std::vector<double>> per(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  const auto t0 = Steady::now();
  const std::string body = job_body(gpus);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      HttpClient http(at, std::chrono::seconds(60));
      const int share = count / clients + (c < count % clients ? 1 : 0);
      for (int i = 0; i < share; ++i) {
        if (rate > 0) {  // open loop: the i-th submit of this client is due at its slot
          const auto due = t0 + std::chrono::microseconds(static_cast<std::int64_t>(i) * clients *
                                                          1'000'000 / rate);
          std::this_thread::sleep_until(due);
        }
        const auto s = Steady::now();
        auto r = http.request("POST", "/v1/jobs", body, kHeaders);
        if (!r || r->status != 201) failures++;
        per[static_cast<std::size_t>(c)].push_back(ms_since(s));
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (auto& v : per)
    lat.ms.insert(lat.ms.end(), v.begin(), v.end());
}

template <class Pred>
bool wait_until(Pred done, int seconds) {
  const auto deadline = Steady::now() + std::chrono::seconds(seconds);
  while (Steady::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::optional<std::pair<std::int64_t, std::int64_t>> parse_range(const std::string& text) {
  const auto dash = text.find('-');
  char* end = nullptr;
  const std::int64_t a = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str()) return std::nullopt;
  const std::int64_t b =
      dash == std::string::npos ? a : std::strtoll(text.c_str() + dash + 1, nullptr, 10);
  if (a < 0 || b < a) return std::nullopt;
  return std::make_pair(a, b);
}

// Every file descriptor the hard limit allows: ten thousand connections on each side.
void raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"", "sy-bench-fleet"};
  command_line::set_up_program(
      app,
      "simulates N agents against a real sy-controller and measures registration, submits,\n"
      "passes and restarts (docs/benchmarks.md, bench/fleet/run).");
  app.add_option("--controller-binary", o.controller_binary, "the sy-controller to start")
      ->required()
      ->type_name("PATH");
  app.add_option("--state-dir", o.state_dir, "its state directory")->required()->type_name("DIR");
  app.add_option("--topology", o.topology, "the topology every simulated node presents")
      ->required()
      ->type_name("FILE");
  app.add_option("--controller-config", o.config_yaml, "the controller's configuration, inline")
      ->type_name("YAML");
  app.add_option("--json", o.json_out, "write the report here")->type_name("FILE");
  const auto count = [&](const char* name, int& target, const char* help, int min) {
    app.add_option(name, target, help)->check(CLI::Range(min, 100000000))->type_name("N");
  };
  count("--nodes", o.nodes, "simulated nodes (default 100)", 1);
  count("--gpus-per-job", o.gpus_per_job, "GPUs of every job (default 1)", 1);
  count("--queued", o.queued, "jobs queued before the load (default 0)", 0);
  count("--rate", o.rate, "submits per second during the load (default 0: none)", 0);
  count("--seconds", o.seconds, "seconds of load", 0);
  count("--clients", o.clients, "concurrent submitting clients (default 8)", 1);
  count("--idle-latency", o.idle_latency, "submit->launch samples on the idle cluster", 0);
  count("--drain-seconds", o.drain_seconds, "seconds to wait for the queue to drain", 0);
  count("--connects-per-s", o.connects_per_s, "agent connects per second (default 0: all at once)",
        0);
  count("--register-seconds", o.register_seconds, "seconds allowed to register (default 120)", 1);
  app.add_option_function<std::string>(
         "--duration-ms",
         [&](const std::string& v) {
           const auto r = parse_range(v);
           if (!r) throw CLI::ValidationError("--duration-ms", "'" + v + "' is not MIN[-MAX]");
           std::tie(o.min_ms, o.max_ms) = *r;
         },
         "how long every job runs, or a range drawn from (default 1000)")
      ->type_name("MIN[-MAX]");
  app.add_flag("--restart", o.restart, "SIGKILL and restart the controller under load");
  count("--lose-launches", o.lose_launches,
        "the first N launch orders are lost with their agent's connection: each must be sent "
        "again when the agent registers again (default 0)",
        0);
  app.add_flag("--lost-as-restart", o.lost_as_restart,
               "the agents that lose an order come back as new agent processes: exactly those "
               "jobs must fail, never start");
  if (const auto stop = command_line::parse(app, argc, argv)) return *stop;
  auto topology = topo::load_node_topology(o.topology);
  if (!topology) return usage(topology.error().to_string());
  raise_fd_limit();

  std::string config_file;
  if (!o.config_yaml.empty()) {
    std::filesystem::create_directories(o.state_dir);
    config_file = o.state_dir + "/controller.yaml";
    std::ofstream(config_file) << o.config_yaml << "\n";
  }
  bench::ControllerProcess controller(o.controller_binary, o.state_dir, config_file);
  auto at = controller.start();
  if (!at) return std::cerr << "sy-bench-fleet: " << at.error() << "\n", 1;

  nlohmann::json report{{"nodes", o.nodes},
                        {"gpus", o.nodes * topology->gpu_count()},
                        {"gpus_per_job", o.gpus_per_job}};
  std::vector<std::string> failed_checks;
  bench::FakeFleet fleet({.controller = at.value(),
                          .nodes = o.nodes,
                          .name_prefix = "sim",
                          .topology = topology.value(),
                          .min_duration_ms = o.min_ms,
                          .max_duration_ms = o.max_ms,
                          .connects_per_s = o.connects_per_s,
                          .lose_launches = o.lose_launches,
                          .lost_as_restart = o.lost_as_restart});

  // 1. register
  auto t0 = Steady::now();
  fleet.start();
  const bool all_registered =
      wait_until([&] { return fleet.counts().registered_nodes == o.nodes; }, o.register_seconds);
  report["register_seconds"] = ms_since(t0) / 1000;
  if (!all_registered) failed_checks.push_back("not every node registered");
  std::cerr << "registered " << fleet.counts().registered_nodes << " nodes in "
            << report["register_seconds"] << " s\n";

  // 2. idle latency: submit -> its launch order at the node
  std::atomic<int> failures{0};
  if (o.idle_latency > 0) {
    Latencies lat;
    HttpClient http(at.value(), std::chrono::seconds(30));
    for (int i = 0; i < o.idle_latency; ++i) {
      const auto s = Steady::now();
      auto r = http.request("POST", "/v1/jobs", job_body(1), kHeaders);
      if (!r || r->status != 201) {
        failures++;
        continue;
      }
      const std::int64_t id = nlohmann::json::parse(r->body).value("id", std::int64_t{0});
      if (!wait_until([&] { return fleet.launched_at(id).has_value(); }, 30)) {
        failed_checks.push_back("an idle-cluster job never started");
        break;
      }
      lat.ms.push_back(
          std::chrono::duration<double, std::milli>(*fleet.launched_at(id) - s).count());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // not in the same pass
    }
    report["idle_submit_to_running"] = lat.summary();
  }

  // 3. fill the queue
  Latencies fill;
  t0 = Steady::now();
  submit_load(at.value(), o.queued, 0, o.clients, o.gpus_per_job, fill, failures);
  report["fill"] = fill.summary();
  report["fill"]["submits_per_s"] = o.queued / std::max(ms_since(t0) / 1000, 1e-9);
  std::cerr << "queued " << o.queued << " jobs\n";

  // 4. sustain, with the queue's first page probed meanwhile
  if (o.rate > 0 && o.seconds > 0) {
    Latencies submits, queue;
    std::atomic<bool> probing{true};
    std::thread probe([&] {
      HttpClient http(at.value(), std::chrono::seconds(30));
      while (probing) {
        const auto s = Steady::now();
        auto r = http.request("GET", "/v1/jobs?limit=50", "", kHeaders);
        if (r && r->status == 200) queue.ms.push_back(ms_since(s));
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    });
    const auto before = fleet.counts();
    t0 = Steady::now();
    submit_load(at.value(), o.rate * o.seconds, o.rate, o.clients, o.gpus_per_job, submits,
                failures);
    const double took = ms_since(t0) / 1000;
    probing = false;
    probe.join();
    const auto after = fleet.counts();
    report["sustain"] = {{"target_submits_per_s", o.rate},
                         {"seconds", took},
                         {"submits_per_s", o.rate * o.seconds / std::max(took, 1e-9)},
                         {"submit", submits.summary()},
                         {"queue_first_page", queue.summary()},
                         {"jobs_started", after.launches - before.launches},
                         {"jobs_ended", after.ended - before.ended}};
  }
  if (failures > 0) failed_checks.push_back(std::to_string(failures.load()) + " submits refused");

  // 5. restart with what runs
  nlohmann::json passes = nlohmann::json::object();
  if (o.restart) {
    const auto before = scrape(at.value());
    add_passes(passes, before);
    const auto fleet_before = fleet.counts();
    report["restart"] = {{"running_at_kill", fleet_before.running},
                         {"controller_rss_mib_at_kill", controller.rss_mib()}};
    controller.kill_hard();
    t0 = Steady::now();
    auto again = controller.start();
    if (!again) return std::cerr << "sy-bench-fleet: " << again.error() << "\n", 1;
    report["restart"]["listening_seconds"] = ms_since(t0) / 1000;
    // The fleet notices the lost connections; wait for all to be back.
    wait_until([&] { return fleet.counts().registered_nodes < o.nodes; }, 5);
    const bool back = wait_until([&] { return fleet.counts().registered_nodes == o.nodes; }, 300);
    report["restart"]["all_registered_seconds"] = ms_since(t0) / 1000;
    if (!back) failed_checks.push_back("not every node registered again after the restart");
    std::this_thread::sleep_for(std::chrono::seconds(2));  // what the controller decides now
    const auto after = scrape(at.value());
    const double failed = metric(after, "sy_jobs_ended_total{state=\"FAILED\"}") -
                          metric(before, "sy_jobs_ended_total{state=\"FAILED\"}");
    report["restart"]["jobs_failed"] = failed;
    report["restart"]["nodes_up"] = fleet.counts().registered_nodes;
    if (failed > 0) failed_checks.push_back("jobs failed in the restart");
  }

  // 6. drain
  if (o.drain_seconds > 0) {
    const bool drained = wait_until(
        [&] {
          const auto m = scrape(at.value());
          double active = 0;
          for (const char* s : {"PENDING", "HELD", "STAGING", "RUNNING", "REQUEUED"})
            active += metric(m, std::string("sy_jobs{state=\"") + s + "\"}");
          return active == 0;
        },
        o.drain_seconds);
    const auto m = scrape(at.value());
    const double completed = metric(m, "sy_jobs_ended_total{state=\"COMPLETED\"}");
    const double failed = metric(m, "sy_jobs_ended_total{state=\"FAILED\"}");
    const double submitted = metric(m, "sy_jobs_submitted_total");
    report["drain"] = {{"completed", completed},
                       {"failed", failed},
                       {"submitted", submitted},
                       {"drained", drained}};
    // Lost with a restarted agent (with every order sent on its dropped connection), a job
    // fails and never starts; otherwise every job completes.
    if (o.lost_as_restart) {
      const auto counts = fleet.counts();
      if (failed < static_cast<double>(counts.lost_launches)) {
        failed_checks.push_back("not every lost job failed");
      }
      if (static_cast<double>(counts.launches) != completed) {
        failed_checks.push_back("a job that failed as lost was started");
      }
    }
    if (!drained || completed + (o.lost_as_restart ? failed : 0.0) != submitted) {
      failed_checks.push_back("not every job completed");
    }
    if (!drained || completed != submitted) {
      // What is left, with its state and reason: where to look next.
      HttpClient http(at.value(), std::chrono::seconds(30));
      auto left = http.request(
          "GET", "/v1/jobs?state=PENDING,HELD,STAGING,RUNNING,REQUEUED,FAILED,CANCELLED&limit=20",
          "", kHeaders);
      if (left && left->status == 200) {
        nlohmann::json unfinished = nlohmann::json::array();
        const auto body = nlohmann::json::parse(left->body, nullptr, false);
        for (const auto& j : body.value("jobs", nlohmann::json::array())) {
          unfinished.push_back({{"id", j.value("id", 0)},
                                {"state", j.value("state", "")},
                                {"reason", j.value("reason", "")},
                                {"placement", j.value("placement", nlohmann::json())}});
        }
        report["drain"]["not_completed"] = unfinished;
        std::cerr << "not completed: " << unfinished.dump() << "\n";
      }
    }
  }

  const auto m = scrape(at.value());
  const auto counts = fleet.counts();
  add_passes(passes, m);
  report["passes"] = passes;
  report["fleet"] = {{"registrations", counts.registrations},
                     {"launches", counts.launches},
                     {"launched_twice", counts.launched_twice},
                     {"ended", counts.ended},
                     {"stopped", counts.stopped},
                     {"lost_launches", counts.lost_launches},
                     {"errors_from_controller", counts.refused_messages}};
  if (counts.launched_twice > 0) failed_checks.push_back("a job was launched twice");
  report["controller"] = {{"rss_mib", controller.rss_mib()},
                          {"peak_rss_mib", controller.peak_rss_mib()},
                          {"database_mib", controller.database_mib()}};
  fleet.stop();
  report["controller"]["exit_status"] = controller.stop();
  report["failed_checks"] = failed_checks;
  if (!o.json_out.empty()) std::ofstream(o.json_out) << report.dump(2) << "\n";
  std::cout << "RESULT " << report.dump() << "\n";
  return failed_checks.empty() ? 0 : 1;
}
