// Launching jobs through the real sy-controller and sy-agent binaries: the `env` launcher's
// ranks and their variables, a failing rank, cancel and time limit on every node (no process
// of the job survives, not even one that left its process group), per-rank logs through
// `sy logs`, and the `mpi` launcher running the MPI all-reduce example on two agents: on
// loopback, and as two hosts in their own network namespaces with no ssh anywhere.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;
namespace fs = std::filesystem;

namespace {

// A process whose command line holds `word` (our sleeps carry unusual numbers).
bool any_process_with(const std::string& word) {
  for (const auto& p : fs::directory_iterator("/proc")) {
    std::ifstream in(p.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(text.begin(), text.end(), '\0', ' ');
    if (text.find(word) != std::string::npos && text.find("pgrep") == std::string::npos) {
      std::ifstream stat(p.path() / "stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') continue;
      return true;
    }
  }
  return false;
}

// The sy CLI against one controller (tests/support/sy_cli.hpp), with `prefix` before it (ip
// netns exec NS), submitting job files written on the spot.
struct Cli : SyCli {
  Cli(std::vector<std::string> prefix_argv, std::string controller)
      : SyCli{std::move(controller), std::move(prefix_argv), {}} {}
  std::string submit(const TempDir& dir, const std::string& file, const std::string& yaml) const {
    return SyCli::submit(dir.write(file, yaml));
  }
  std::string logs(const std::string& id, std::vector<std::string> more = {}) const {
    std::vector<std::string> args{"logs", id};
    args.insert(args.end(), more.begin(), more.end());
    return run(args).out;
  }
};

std::string agent_topology() {
  return source_dir() + "/examples/topologies/dgx1-v100.yaml";
}

}  // namespace

TEST_CASE("env launch: ranks, failing rank, cancel and time limit on every node",
          "[integration][launch]") {
  ControllerFixture controller("nodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 5000}\n");
  controller.start();
  TempDir dir;
  std::vector<std::unique_ptr<ChildProcess>> agents;
  for (const std::string node : {"node01", "node02"}) {
    agents.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{agent_binary(), "--insecure", "--controller", controller.address(),
                                 "--node-name", node, "--tier0", dir.file("tier0-" + node),
                                 "--spool", dir.file("spool-" + node), "--topology",
                                 agent_topology()},
        controller.dir().file(node + ".log")));
  }
  const Cli cli{{}, controller.address()};
  REQUIRE(eventually([&] { return cli.nodes_up() == 2; }, std::chrono::seconds(20)));
  // Without a writable cgroup v2 tree the agents fall back to process groups, which a process
  // that calls setsid leaves: then only the processes that stay in their group are checked.
  const bool cgroups =
      read_file(controller.dir().file("node01.log")).find("jobs in cgroups") != std::string::npos;
  if (!cgroups)
    announce_skip(
        "the setsid escape: the agents use process groups here (no writable cgroup v2 tree)");
  const std::string escape = cgroups ? "setsid" : "";

  SECTION("every rank sees its variables and only its GPU, and its lines are labelled") {
    const std::string id =
        cli.submit(dir, "env.yaml",
                   "launcher: env\nresources: {nodes: 2, gpus_per_node: 2}\n"
                   "command: [sh, -c, 'echo \"R=$RANK L=$LOCAL_RANK W=$WORLD_SIZE "
                   "LW=$LOCAL_WORLD_SIZE G=$GROUP_RANK M=$MASTER_ADDR:$MASTER_PORT "
                   "GPU=$CUDA_VISIBLE_DEVICES HCA=$NCCL_IB_HCA\"']\n");
    const auto job = cli.ended(id, 30);
    REQUIRE(job.value("state", "") == "COMPLETED");
    // The GPUs the placement gave each node, in order: rank i of a node gets its i-th.
    std::map<std::string, std::vector<int>> gpus;
    for (const auto& n : job["placement"]["nodes"])
      gpus[n["node"].get<std::string>()] = n["gpus"].get<std::vector<int>>();
    const auto& first = job["placement"]["nodes"][0]["node"];
    const auto& second = job["placement"]["nodes"][1]["node"];
    const std::string all = cli.logs(id);
    INFO(all);
    for (int rank = 0; rank < 4; ++rank) {
      const auto& on = rank < 2 ? first : second;
      const int local = rank % 2;
      const std::string expected =
          "R=" + std::to_string(rank) + " L=" + std::to_string(local) +
          " W=4 LW=2 G=" + std::to_string(rank / 2) +
          " M=127.0.0.1:" + std::to_string(29500 + std::stoi(id) % 1000) +
          " GPU=" + std::to_string(gpus[on.get<std::string>()][static_cast<std::size_t>(local)]) +
          " HCA=mlx5_";
      CHECK(all.find(std::to_string(rank) + ": " + expected) != std::string::npos);
      const std::string one = cli.logs(id, {"--rank", std::to_string(rank)});
      CHECK(one.rfind(expected, 0) == 0);
      CHECK(std::count(one.begin(), one.end(), '\n') == 1);
    }
  }

  SECTION("a failing rank fails the job, naming it, and stops the others everywhere") {
    const std::string id = cli.submit(
        dir, "fail.yaml",
        "launcher: env\nresources: {nodes: 2, gpus_per_node: 2}\n"
        "command: [sh, -c, 'if [ $RANK = 3 ]; then sleep 1; echo giving up; exit 7; fi; " +
            escape + " sleep 631 & exec sleep 632']\n");
    const auto job = cli.ended(id, 40);
    CHECK(job.value("state", "") == "FAILED");
    CHECK(job.value("exit_code", 0) == 7);
    const std::string second = job["placement"]["nodes"][1]["node"];
    CHECK_THAT(job.value("reason", ""),
               Catch::Contains("rank 3 on " + second + " exited with code 7"));
    CHECK(cli.logs(id, {"--rank", "3"}) == "giving up\n");
    CHECK(
        eventually([] { return !any_process_with("sleep 631") && !any_process_with("sleep 632"); },
                   std::chrono::seconds(15)));
  }

  SECTION("cancel ends every process of the job on every node, even those that left its group") {
    const std::string id = cli.submit(dir, "cancel.yaml",
                                      "launcher: env\nresources: {nodes: 2, gpus_per_node: 2}\n"
                                      "command: [sh, -c, '" +
                                          escape + " sleep 633 & exec sleep 634']\n");
    REQUIRE(eventually([&] { return cli.show(id).value("state", "") == "RUNNING"; },
                       std::chrono::seconds(20)));
    REQUIRE(
        eventually([] { return any_process_with("sleep 633") && any_process_with("sleep 634"); },
                   std::chrono::seconds(10)));
    REQUIRE(cli.run({"cancel", id}).exit_code == 0);
    CHECK(cli.ended(id, 10).value("state", "") == "CANCELLED");
    CHECK(
        eventually([] { return !any_process_with("sleep 633") && !any_process_with("sleep 634"); },
                   std::chrono::seconds(15)));
  }

  SECTION("a job runs as the user who submitted it when the agent runs as root") {
    if (::geteuid() != 0 || run_program({"/bin/sh", "-c", "command -v setpriv"}).exit_code != 0) {
      SY_SKIP("running a job as its user needs root (and setpriv)");
    }
    // `sy` run as nobody reaches the controller's local socket, which tells the controller its
    // uid; the agent switches to nobody to run the job.
    const std::string file =
        dir.write("as-nobody.yaml",
                  "launcher: env\nresources: {nodes: 2, gpus_per_node: 1}\n"
                  "command: [sh, -c, 'echo \"$(id -un) $HOME\"; touch mine']\n");
    fs::permissions(dir.path(), fs::perms::all);
    fs::permissions(file, fs::perms::all);
    fs::permissions(controller.dir().path(), fs::perms::all);
    const Cli as_nobody{{"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"},
                        controller.local_address()};
    auto r = as_nobody.run({"submit", "--parsable", file});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string id = r.out.substr(0, r.out.size() - 1);
    const auto job = cli.ended(id, 30);
    CHECK(job.value("user", "") == "nobody");
    REQUIRE(job.value("state", "") == "COMPLETED");
    const std::string log = cli.logs(id);
    CHECK(log.find("0: nobody /nonexistent") != std::string::npos);
    CHECK(log.find("1: nobody /nonexistent") != std::string::npos);
  }

  SECTION("the time limit stops the job on every node") {
    const std::string id = cli.submit(
        dir, "limit.yaml",
        "launcher: env\nresources: {nodes: 2, gpus_per_node: 1}\ntime_limit: 2s\n"
        "command: [sh, -c, 'trap \"echo got TERM; exit 143\" TERM; sleep 635 & wait']\n");
    const auto job = cli.ended(id, 40);
    CHECK(job.value("state", "") == "FAILED");
    CHECK_THAT(job.value("reason", ""), Catch::Contains("time limit of 00:00:02 reached"));
    const std::string all = cli.logs(id);
    CHECK(all.find("0: got TERM") != std::string::npos);
    CHECK(all.find("1: got TERM") != std::string::npos);
    CHECK(eventually([] { return !any_process_with("sleep 635"); }, std::chrono::seconds(15)));
  }
}

namespace {

bool have_mpi_example() {
  return fs::exists(examples_dir() + "/allreduce_mpi") &&
         run_program({"/bin/sh", "-c", "command -v mpirun"}).exit_code == 0;
}

// A fake ssh that says it was used: Switchyard must never need it.
std::string fake_ssh_dir(const TempDir& dir) {
  const std::string bin = dir.file("fake-bin");
  fs::create_directories(bin);
  const std::string ssh = dir.write(
      "fake-bin/ssh", "#!/bin/sh\necho \"$@\" >> " + dir.file("ssh-was-used") + "\nexit 255\n");
  fs::permissions(ssh, fs::perms::owner_all);
  return bin;
}

const char* kMpiJob =
    "name: allreduce\nlauncher: mpi\nresources: {nodes: 2, gpus_per_node: 2}\n"
    "command: [%EXAMPLES%/allreduce_mpi, --max-bytes, 1M, --iters, '5', --warmup, '1']\n"
    "time_limit: 5m\n";

}  // namespace

TEST_CASE("mpi launch: the all-reduce example on 2 nodes x 2 ranks, daemons started by the agents",
          "[integration][launch][mpi]") {
  if (!have_mpi_example()) {
    SY_SKIP_FOR_PACKAGE("Open MPI (mpirun) or the allreduce_mpi example is not here",
                        "openmpi-bin libopenmpi-dev");
  }
  ControllerFixture controller("nodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 5000}\n");
  controller.start();
  TempDir dir;
  const std::string path = fake_ssh_dir(dir) + ":" + std::getenv("PATH");
  std::vector<std::unique_ptr<ChildProcess>> agents;
  for (const std::string node : {"node01", "node02"}) {
    agents.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/env", "PATH=" + path, agent_binary(), "--insecure",
                                 "--controller", controller.address(), "--node-name", node,
                                 "--tier0", dir.file("tier0-" + node), "--spool",
                                 dir.file("spool-" + node), "--topology", agent_topology()},
        controller.dir().file(node + ".log")));
  }
  const Cli cli{{}, controller.address()};
  REQUIRE(eventually([&] { return cli.nodes_up() == 2; }, std::chrono::seconds(20)));
  // Both "nodes" share this host and its name: keep Open MPI on loopback and off shared memory
  // between them (each node's ranks would take the same segment names).
  std::string yaml = std::regex_replace(kMpiJob, std::regex("%EXAMPLES%"), examples_dir()) +
                     "env: {OMPI_MCA_btl: 'self,tcp', OMPI_MCA_btl_tcp_if_include: lo, "
                     "OMPI_MCA_oob_tcp_if_include: lo}\n";
  const std::string id = cli.submit(dir, "mpi.yaml", yaml);
  const auto job = cli.ended(id, 240);
  const std::string log = cli.logs(id);
  INFO(log);
  INFO(controller.log());
  REQUIRE(job.value("state", "") == "COMPLETED");
  CHECK(log.find("0: # MPI (CPU) all-reduce (sum, float), 4 ranks") != std::string::npos);
  CHECK(log.find("0: # Out of bounds values : 0 OK") != std::string::npos);
  CHECK(!fs::exists(dir.file("ssh-was-used")));
}

namespace {

// Two network namespaces joined by a veth pair, each a "host" with its own address (and, run
// under `unshare --uts`, its own host name). Removed with everything in them at the end.
struct TwoHosts {
  std::string a, b;
  bool ok = false;
  std::string why;
  TwoHosts() {
    const std::string tag = std::to_string(::getpid() % 100000);
    a = "sy-test-a" + tag;
    b = "sy-test-b" + tag;
    const std::vector<std::vector<std::string>> steps = {
        {"ip", "netns", "add", a},
        {"ip", "netns", "add", b},
        {"ip", "link", "add", "sy-veth-a", "netns", a, "type", "veth", "peer", "name", "sy-veth-b",
         "netns", b},
        {"ip", "-n", a, "addr", "add", "10.231.7.1/24", "dev", "sy-veth-a"},
        {"ip", "-n", b, "addr", "add", "10.231.7.2/24", "dev", "sy-veth-b"},
        {"ip", "-n", a, "link", "set", "sy-veth-a", "up"},
        {"ip", "-n", b, "link", "set", "sy-veth-b", "up"},
        {"ip", "-n", a, "link", "set", "lo", "up"},
        {"ip", "-n", b, "link", "set", "lo", "up"},
        {"ip", "netns", "exec", a, "unshare", "--uts", "true"}};
    if (::geteuid() != 0) {
      why = "not root: network namespaces need CAP_SYS_ADMIN";
      return;
    }
    for (const auto& step : steps) {
      std::vector<std::string> argv{"/usr/bin/env"};
      argv.insert(argv.end(), step.begin(), step.end());
      auto r = run_program(argv);
      if (r.exit_code != 0) {
        why = "cannot set up network namespaces (" + step[0] + " " + step[1] + " " + step[2] +
              "...: " + r.err + ")";
        return;
      }
    }
    ok = true;
  }
  ~TwoHosts() {
    run_program({"/usr/bin/env", "ip", "netns", "del", a});
    run_program({"/usr/bin/env", "ip", "netns", "del", b});
  }
  // argv run inside namespace `ns` with host name `host`.
  static std::vector<std::string> inside(const std::string& ns, const std::string& host,
                                         const std::vector<std::string>& argv) {
    std::string command = "hostname " + host + " && exec";
    for (const auto& a : argv)
      command += " '" + a + "'";
    return {"/usr/bin/env", "ip",    "netns",   "exec", ns,
            "unshare",      "--uts", "/bin/sh", "-c",   command};
  }
};

}  // namespace

TEST_CASE("mpi launch across two hosts in separate network namespaces, without ssh",
          "[integration][launch][mpi][netns]") {
  if (!have_mpi_example()) {
    SY_SKIP_FOR_PACKAGE("Open MPI (mpirun) or the allreduce_mpi example is not here",
                        "openmpi-bin libopenmpi-dev");
  }
  TwoHosts hosts;
  if (!hosts.ok) SY_SKIP(hosts.why);
  TempDir dir;
  const std::string path = fake_ssh_dir(dir) + ":" + std::getenv("PATH");
  // The controller lives on host A, at its namespace address; both agents reach it over the veth.
  ChildProcess controller(
      TwoHosts::inside(hosts.a, "host-a",
                       {controller_binary(), "--insecure", "--listen", "10.231.7.1:0",
                        "--state-dir", dir.file("state"), "--port-file", dir.file("port")}),
      dir.file("controller.log"));
  REQUIRE(eventually(
      [&] { return fs::exists(dir.file("port")) && fs::file_size(dir.file("port")) > 0; },
      std::chrono::seconds(20)));
  std::string port = read_file(dir.file("port"));
  port.erase(port.find_last_not_of(" \n") + 1);
  const std::string controller_at = "10.231.7.1:" + port;
  std::vector<std::unique_ptr<ChildProcess>> agents;
  for (const auto& [ns, host] :
       {std::pair{hosts.a, std::string("host-a")}, std::pair{hosts.b, std::string("host-b")}}) {
    agents.push_back(std::make_unique<ChildProcess>(
        TwoHosts::inside(
            ns, host,
            {"/usr/bin/env", "PATH=" + path, agent_binary(), "--insecure", "--controller",
             controller_at, "--node-name", host, "--tier0", dir.file("tier0-" + host), "--spool",
             dir.file("spool-" + host), "--topology", agent_topology()}),
        dir.file(host + ".log")));
  }
  const Cli cli{{"/usr/bin/env", "ip", "netns", "exec", hosts.a}, controller_at};
  REQUIRE(eventually([&] { return cli.nodes_up() == 2; }, std::chrono::seconds(30)));
  const std::string yaml =
      std::regex_replace(kMpiJob, std::regex("%EXAMPLES%"), examples_dir()) +
      "env: {OMPI_MCA_btl_tcp_if_include: 10.231.7.0/24, OMPI_MCA_oob_tcp_if_include: "
      "10.231.7.0/24}\n";
  const std::string id = cli.submit(dir, "mpi.yaml", yaml);
  const auto job = cli.ended(id, 240);
  const std::string log = cli.logs(id);
  INFO(log);
  INFO(read_file(dir.file("host-a.log")));
  INFO(read_file(dir.file("host-b.log")));
  REQUIRE(job.value("state", "") == "COMPLETED");
  // Ranks 0-1 on the first host of the placement, 2-3 on the other: two hosts, as placed.
  const std::string first = job["placement"]["nodes"][0]["node"];
  const std::string second = job["placement"]["nodes"][1]["node"];
  CHECK(first != second);
  CHECK(log.find("0: #  rank 0 on " + first) != std::string::npos);
  CHECK(log.find("0: #  rank 1 on " + first) != std::string::npos);
  CHECK(log.find("0: #  rank 2 on " + second) != std::string::npos);
  CHECK(log.find("0: #  rank 3 on " + second) != std::string::npos);
  CHECK(log.find("0: # Out of bounds values : 0 OK") != std::string::npos);
  CHECK(!fs::exists(dir.file("ssh-was-used")));
  for (auto& a : agents)
    a->signal(SIGTERM);
  controller.signal(SIGTERM);
}
