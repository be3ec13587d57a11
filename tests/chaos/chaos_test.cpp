// Chaos: 500 jobs through a controller and 4 agents while the controller and the agents are
// SIGKILLed and restarted at random and one agent (in its own network namespace) is cut off and
// healed; every kind of fault happens in every run, and the controller is killed at least once
// while a job stages its dataset (one job in five reads one). Bounded in count and time. Then
// the invariants: every acknowledged job exists once and ended exactly once (or still waits), no
// GPU was ever held by two jobs at once (replayed from the controller's allocation audit), no
// job ran more often than it was requeued (counted from what the jobs themselves wrote on the
// agents' side: a file per run, with its node, not from the controller's own log), every
// completed job really ran on the node the controller says, and no process of any job is left.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kJobs = 500;
constexpr int kAgents = 4;
constexpr auto kChaosFor = 60s;    // faults are injected this long at most
constexpr auto kSettleFor = 150s;  // then every job gets this long to end
constexpr int kMaxFaults = 60;
// Our jobs' sleeps carry this odd extra fraction, so their processes can be told apart.
const std::string kMarker = "0.000731";

bool sh(const std::string& command) {
  return run_program({"/bin/sh", "-c", command}).exit_code == 0;
}

// A link from this namespace to one of its own: the partitioned agent lives behind it.
struct Partitionable {
  std::string ns, outside, inside, subnet;
  bool ok = false;
  Partitionable() {
    // Each step is undone by the destructor, whichever failed.
    const std::string tag = std::to_string(::getpid() % 100000);
    ns = "sychaos" + tag;
    // A subnet of our own too: another run's leftovers must not answer for us.
    subnet = "10.231." + std::to_string(100 + ::getpid() % 150) + ".";
    outside = "syc" + tag + "o";
    inside = "syc" + tag + "i";
    if (::geteuid() != 0) return;
    ok = sh("ip netns add " + ns) &&
         sh("ip link add " + outside + " type veth peer name " + inside) &&
         sh("ip link set " + inside + " netns " + ns) &&
         sh("ip addr add " + subnet + "1/24 dev " + outside) &&
         sh("ip link set " + outside + " up") &&
         sh("ip -n " + ns + " addr add " + subnet + "2/24 dev " + inside) &&
         sh("ip -n " + ns + " link set " + inside + " up") && sh("ip -n " + ns + " link set lo up");
  }
  ~Partitionable() {
    sh("ip link del " + outside + " 2>/dev/null");
    sh("ip netns del " + ns + " 2>/dev/null");
  }
  void cut() { sh("ip link set " + outside + " down"); }
  void heal() { sh("ip link set " + outside + " up"); }
};

int marked_processes() {
  int n = 0;
  for (const auto& p : fs::directory_iterator("/proc")) {
    std::ifstream in(p.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find(kMarker) == std::string::npos) continue;
    std::ifstream stat(p.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') continue;
    ++n;
  }
  return n;
}

bool terminal(const std::string& state) {
  return state == "COMPLETED" || state == "FAILED" || state == "CANCELLED";
}

}  // namespace

TEST_CASE("no job lost or run twice and no GPU held twice under crashes and a partition",
          "[chaos]") {
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::all);  // jobs run as nobody in the agents' spools here
  Partitionable net;
  if (!net.ok) announce_skip("the partition: network namespaces need root and ip");
  const std::string host = net.ok ? net.subnet + "1" : "127.0.0.1";
  std::mt19937 rng(static_cast<unsigned>(std::random_device{}()));
  const unsigned seed = rng();
  rng.seed(seed);
  INFO("seed " << seed);

  // The controller, restartable on the same port and state.
  const std::string state = dir.file("state");
  const std::string config = dir.write(
      "controller.yaml", "nodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 1500}\n");
  std::uint16_t port = 0;
  std::unique_ptr<ChildProcess> controller;
  auto start_controller = [&] {
    fs::remove(dir.file("port"));
    controller = std::make_unique<ChildProcess>(
        std::vector<std::string>{controller_binary(), "--insecure", "--config", config, "--listen",
                                 host + ":" + std::to_string(port), "--state-dir", state,
                                 "--port-file", dir.file("port")},
        dir.file("controller.log"));
    bool up = eventually(
        [&] { return fs::exists(dir.file("port")) && fs::file_size(dir.file("port")) > 0; }, 20s);
    if (!up && port != 0 && !controller->running()) {
      // Its port can be held for a moment by a connection attempt made while it was down; it
      // starts again, as its service manager would start it.
      WARN("the controller could not start on its port; starting it again");
      std::this_thread::sleep_for(1s);
      controller = std::make_unique<ChildProcess>(
          std::vector<std::string>{controller_binary(), "--insecure", "--config", config,
                                   "--listen", host + ":" + std::to_string(port), "--state-dir",
                                   state, "--port-file", dir.file("port")},
          dir.file("controller.log"));
      up = eventually(
          [&] { return fs::exists(dir.file("port")) && fs::file_size(dir.file("port")) > 0; }, 20s);
    }
    if (!up) {
      const std::string log = read_file(dir.file("controller.log"));
      FAIL("the controller did not restart:\n"
           << log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
    }
    port = static_cast<std::uint16_t>(std::stoi(read_file(dir.file("port"))));
  };
  start_controller();
  const std::string address = host + ":" + std::to_string(port);

  std::vector<std::unique_ptr<ChildProcess>> agents(kAgents);
  auto start_agent = [&](int i) {
    const std::string node = "node0" + std::to_string(i + 1);
    std::vector<std::string> argv;
    if (net.ok && i == kAgents - 1) argv = {"/usr/sbin/ip", "netns", "exec", net.ns};
    for (const std::string& a :
         {agent_binary(), std::string("--insecure"), std::string("--controller"), address,
          std::string("--node-name"), node, std::string("--tier0"), dir.file("tier0-" + node),
          std::string("--spool"), dir.file("spool-" + node), std::string("--stage-bandwidth"),
          std::string("2M"), std::string("--topology"),
          source_dir() + "/examples/topologies/dgx1-v100.yaml"})
      argv.push_back(a);
    agents[i] = std::make_unique<ChildProcess>(argv, dir.file(node + ".log"));
  };
  for (int i = 0; i < kAgents; ++i)
    start_agent(i);
  const SyCli cli{address, {}, {}};
  REQUIRE(eventually([&] { return cli.nodes_up() == kAgents; }, 30s));

  // A dataset of 3 MB, staged at 2 MB/s: a job reading it stages for about a second and a half
  // on each node the first time.
  for (int i = 0; i < 60; ++i)
    dir.write("shared/ds/part-" + std::to_string(i), std::string(50000, 'a' + i % 26));
  {
    HttpClient http(Endpoint{host, port}, 60s);
    auto added =
        http.request("POST", "/v1/datasets",
                     nlohmann::json{{"name", "ds"}, {"source", dir.file("shared/ds")}}.dump(),
                     {{"X-Sy-User", "root"}, {"Content-Type", "application/json"}});
    REQUIRE(added);
    INFO(added->body);
    REQUIRE(added->status < 300);
  }
  // Each run of a job writes a file here itself, named uniquely, holding its node.
  fs::create_directories(dir.file("ran"));
  fs::permissions(dir.file("ran"), fs::perms::all);

  // Submitting, in the background, with an idempotency key per job and retries through the
  // faults: a job counts as acknowledged when an answer with its id came back.
  std::mutex acked_mutex;
  std::map<std::string, std::int64_t> acked;  // key -> id
  std::atomic<bool> submitting{true};
  std::atomic<bool> abandon{false};
  std::thread submitter([&] {
    std::mt19937 local(seed + 1);
    HttpClient http(Endpoint{host, port}, 5s);
    for (int n = 0; n < kJobs && !abandon; ++n) {
      const int gpus = std::vector<int>{1, 1, 2, 2, 4, 8}[local() % 6];
      const bool requeue = local() % 2 == 0;
      // Most end in a fraction of a second; one in ten outlives a partition.
      const std::string sleep = local() % 10 == 0 ? "3" : "0." + std::to_string(1 + local() % 5);
      const bool reads = local() % 5 == 0;
      const std::string run =
          std::string(reads ? "ls \"$SY_DATASETS_DIR/ds/part-3\" > /dev/null || exit 3; " : "") +
          "echo \"$SY_NODE_NAME\" > " + dir.file("ran") +
          "/$SY_JOB_ID.$(cat /proc/sys/kernel/random/uuid) || exit 4; exec sleep " + sleep + " " +
          kMarker;
      nlohmann::json spec{{"name", "chaos" + std::to_string(n)},
                          {"resources", {{"gpus_per_node", gpus}}},
                          {"requeue", requeue},
                          {"time_limit", "2m"},
                          {"command", {"sh", "-c", run}}};
      if (reads) spec["datasets"] = {"ds"};
      const std::string key = "chaos-" + std::to_string(seed) + "-" + std::to_string(n);
      const auto deadline = Clock::now() + 60s;
      while (Clock::now() < deadline && !abandon) {
        auto r = http.request("POST", "/v1/jobs", spec.dump(),
                              {{"X-Sy-User", "nobody"},
                               {"Content-Type", "application/json"},
                               {"Idempotency-Key", key}});
        if (r && (r->status == 200 || r->status == 201)) {
          const std::lock_guard lock(acked_mutex);
          acked[key] = nlohmann::json::parse(r->body)["id"].get<std::int64_t>();
          break;
        }
        std::this_thread::sleep_for(100ms);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(local() % 60));
    }
    submitting = false;
  });

  // A failed REQUIRE below unwinds through here: the submitter must be joined first, so that
  // the processes and the namespace are cleaned up by their destructors.
  struct JoinOnExit {
    std::thread& t;
    std::atomic<bool>& stop;
    ~JoinOnExit() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join_on_exit{submitter, abandon};

  // The faults: the first of each kind in a random order (so every kind happens in every run),
  // then at random. The first controller kill waits for a job that is staging its dataset.
  HttpClient watch(Endpoint{host, port}, 5s);
  const auto staging_now = [&] {
    auto r = watch.request("GET", "/v1/jobs?state=STAGING&limit=1", "", {{"X-Sy-User", "root"}});
    return r && r->status == 200 && !nlohmann::json::parse(r->body)["jobs"].empty();
  };
  std::vector<int> first_of_each = {0, 1};
  if (net.ok) first_of_each.push_back(2);
  std::shuffle(first_of_each.begin(), first_of_each.end(), rng);
  std::map<std::string, int> faults;
  const auto chaos_end = Clock::now() + kChaosFor;
  while (Clock::now() < chaos_end && faults["total"] < kMaxFaults) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800 + rng() % 1500));
    const std::size_t n = static_cast<std::size_t>(faults["total"]);
    const int what =
        n < first_of_each.size() ? first_of_each[n] : static_cast<int>(rng() % (net.ok ? 3 : 2));
    ++faults["total"];
    if (what == 0) {
      if (faults["controller SIGKILL while staging"] == 0 &&
          eventually(staging_now, std::chrono::seconds(15))) {
        ++faults["controller SIGKILL while staging"];
      }
      controller->signal(SIGKILL);
      controller->wait(10s);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 1000));
      start_controller();
      ++faults["controller SIGKILL"];
    } else if (what == 1) {
      const int i = static_cast<int>(rng() % kAgents);
      agents[i]->signal(SIGKILL);
      agents[i]->wait(10s);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 2500));
      start_agent(i);
      ++faults["agent SIGKILL"];
    } else {
      net.cut();
      std::this_thread::sleep_for(std::chrono::milliseconds(2000 + rng() % 1500));  // > timeout
      net.heal();
      ++faults["partition"];
    }
    if (!submitting && faults["total"] >= 20) break;
  }
  submitter.join();
  for (const auto& [what, n] : faults)
    WARN(what << ": " << n);
  // Each kind of fault happened in this run.
  CHECK(faults["controller SIGKILL"] >= 1);
  CHECK(faults["controller SIGKILL while staging"] >= 1);
  CHECK(faults["agent SIGKILL"] >= 1);
  if (net.ok) CHECK(faults["partition"] >= 1);

  // Every job gets its chance to end.
  std::map<std::string, std::int64_t> acked_copy;
  {
    const std::lock_guard lock(acked_mutex);
    acked_copy = acked;
  }
  REQUIRE(acked_copy.size() == static_cast<std::size_t>(kJobs));
  nlohmann::json jobs;
  HttpClient http(Endpoint{host, port}, 30s);
  const HttpHeaders admin{{"X-Sy-User", "root"}};
  const bool settled = eventually(
      [&] {
        auto r = http.request("GET", "/v1/jobs?state=all&limit=10000", "", admin);
        if (!r || r->status != 200) return false;
        jobs = nlohmann::json::parse(r->body)["jobs"];
        for (const auto& j : jobs)
          if (!terminal(j.value("state", ""))) return false;
        return true;
      },
      kSettleFor);
  CHECK(settled);

  // Acknowledged once, present once.
  std::set<std::int64_t> ids;
  for (const auto& j : jobs)
    ids.insert(j["id"].get<std::int64_t>());
  CHECK(ids.size() == jobs.size());
  CHECK(jobs.size() == static_cast<std::size_t>(kJobs));
  if (jobs.size() != static_cast<std::size_t>(kJobs)) {
    const std::string log = read_file(dir.file("controller.log"));
    FAIL("jobs listed: " << jobs.size() << "\n"
                         << log.substr(log.size() > 6000 ? log.size() - 6000 : 0));
  }
  for (const auto& [key, id] : acked_copy) {
    INFO(key);
    CHECK(ids.contains(id));
  }

  // What ran, as the jobs themselves recorded it on the agents' side: job id -> nodes, a run each.
  std::map<std::int64_t, std::vector<std::string>> runs;
  for (const auto& f : fs::directory_iterator(dir.file("ran"))) {
    const std::string name = f.path().filename();
    std::string node = read_file(f.path().string());
    if (!node.empty() && node.back() == '\n') node.pop_back();
    runs[std::stoll(name.substr(0, name.find('.')))].push_back(node);
  }
  int reading_completed = 0;

  // Ended exactly once; run no more often than requeued, plus once; a completed job ran, on the
  // node the controller placed it on.
  std::map<std::string, int> ends;
  for (const auto& id : ids) {
    auto r = http.request("GET", "/v1/jobs/" + std::to_string(id), "", admin);
    REQUIRE(r);
    const auto job = nlohmann::json::parse(r->body);
    int terminal_entries = 0, launches = 0, requeues = 0;
    bool after_end = false;
    for (const auto& e : job["events"]) {
      const std::string to = e.value("to", "");
      if (after_end) {
        FAIL_CHECK("job " << id << " changed after it ended: " << e.dump());
      }
      if (terminal(to)) {
        ++terminal_entries;
        after_end = true;
      }
      launches += e.value("event", "") == "launch";
      requeues += e.value("event", "") == "requeue";
    }
    const std::string s = job.value("state", "");
    const auto& ran = runs[id];
    INFO("job " << id << " ran on: " << nlohmann::json(ran).dump());
    CHECK(static_cast<int>(ran.size()) <= requeues + 1);
    if (s == "COMPLETED") {
      REQUIRE_FALSE(ran.empty());
      const auto& placed = job["placement"]["nodes"];
      REQUIRE(placed.size() == 1);
      CHECK(std::find(ran.begin(), ran.end(), placed[0].value("node", "")) != ran.end());
      reading_completed += job["spec"].contains("datasets");
    }
    if (terminal(s)) {
      CHECK(terminal_entries == 1);
      ++ends[s];
      if (s == "FAILED" && ends[s] <= 3)
        WARN("job " << id << " failed: " << job.value("reason", ""));
    }
    INFO("job " << id << ": " << job["events"].dump());
    CHECK(launches <= requeues + 1);
  }
  for (const auto& [s, n] : ends)
    WARN(s << ": " << n);
  CHECK(reading_completed > 0);  // jobs with a dataset were among those that ran

  // No GPU held twice: replay the audit in commit order.
  controller->signal(SIGTERM);
  controller->wait(30s);
  auto audit =
      run_program({"/usr/bin/sqlite3", "-readonly", "-separator", " ", state + "/switchyard.db",
                   "SELECT job_id, node, gpus, event FROM allocation_audit ORDER BY seq"});
  REQUIRE(audit.exit_code == 0);
  std::map<std::string, std::uint64_t> held;  // node -> GPUs held
  std::map<std::pair<std::int64_t, std::string>, std::uint64_t> by_job;
  std::istringstream rows(audit.out);
  std::int64_t job = 0;
  std::string node, event;
  std::uint64_t gpus = 0;
  int allocations = 0, double_held = 0;
  while (rows >> job >> node >> gpus >> event) {
    if (event == "allocate") {
      ++allocations;
      if (held[node] & gpus) ++double_held;
      held[node] |= gpus;
      by_job[{job, node}] = gpus;
    } else {
      held[node] &= ~by_job[{job, node}];
      by_job.erase({job, node});
    }
  }
  CHECK(allocations >= kJobs / 2);
  CHECK(double_held == 0);
  WARN("audited allocations: " << allocations);

  // No process of any job outlives it, then none outlives the agents.
  CHECK(eventually([] { return marked_processes() == 0; }, 20s));
  for (auto& a : agents) {
    a->signal(SIGTERM);
    a->wait(20s);
  }
  CHECK(marked_processes() == 0);
}
