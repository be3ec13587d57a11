// Running under systemd: readiness, reloads, stopping and watchdog pings reach NOTIFY_SOCKET
// (a socket the test binds, as systemd is not PID 1 here), SIGHUP applies what it can and names
// the rest, a bad file on reload changes nothing, and log lines carry journald priorities.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy::test;
using namespace std::chrono_literals;

namespace {

// The datagram socket systemd would listen on.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 100 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  const std::string& path() const { return path_; }

  // Messages until one starts with `prefix` (returned) or `limit` passes ("").
  std::string wait_for(const std::string& prefix, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string message(buf, static_cast<std::size_t>(n));
      seen_.push_back(message);
      if (message.starts_with(prefix)) return message;
    }
    return "";
  }
  int count(const std::string& prefix) const {
    int n = 0;
    for (const auto& m : seen_)
      n += m.starts_with(prefix);
    return n;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> seen_;
};

// Sets variables for the children this test starts, and takes them away after.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {
    for (const auto& [k, v] : vars_)
      ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : vars_)
      ::unsetenv(k.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::map<std::string, std::string> vars_;
};

// What systemd puts in JOURNAL_STREAM for a stream: its device and inode.
std::string journal_stream_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

bool can_act_as_other_users() {
  return ::geteuid() == 0 && std::filesystem::exists("/usr/bin/setpriv");
}

}  // namespace

TEST_CASE("the controller reports readiness reloads and stopping to systemd and pings its watchdog",
          "[integration][service]") {
  TempDir dir;
  NotifySocket notify(dir.file("notify"));
  const std::string log_path = dir.write("controller.log", "");
  const std::string config = dir.write("controller.yaml", "log_level: info\n");
  const ScopedEnv env({{"NOTIFY_SOCKET", notify.path()},
                       {"WATCHDOG_USEC", "300000"},
                       {"JOURNAL_STREAM", journal_stream_of(log_path)}});
  ChildProcess controller(
      {controller_binary(), "--insecure", "--listen", "127.0.0.1:0", "--state-dir",
       dir.file("state"), "--port-file", dir.file("port"), "--config", config},
      log_path);
  const std::string ready = notify.wait_for("READY=1", 30s);
  REQUIRE_FALSE(ready.empty());
  CHECK(ready.find("STATUS=serving on 127.0.0.1:") != std::string::npos);
  CHECK(std::filesystem::exists(dir.file("port")));  // ready only once it listens
  notify.wait_for("never", 1s);
  CHECK(notify.count("WATCHDOG=1") >= 2);  // every 150 ms for a 300 ms watchdog

  const SyCli local{"unix:" + dir.file("state/sy.sock"), {}, {}};
  const bool other_users = can_act_as_other_users();
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);  // the socket is inside
  if (other_users) {
    auto refused = local.as("daemon").run({"drain", "node-x"});
    INFO(refused.err);
    CHECK(refused.exit_code != 0);
    CHECK(refused.err.find("only admins") != std::string::npos);
  }

  dir.write("controller.yaml",
            "log_level: debug\nauth: {admins: [daemon]}\nstore: {max_batch: 7}\n");
  controller.signal(SIGHUP);
  CHECK_FALSE(notify.wait_for("RELOADING=1", 10s).empty());
  CHECK_FALSE(notify.wait_for("READY=1", 10s).empty());
  if (other_users) {
    auto allowed = local.as("daemon").run({"drain", "node-x"});
    INFO(allowed.err);
    CHECK(allowed.err.find("only admins") == std::string::npos);  // now an admin: no such node
  } else {
    announce_skip("the admin check: needs root and setpriv to act as another user");
  }

  dir.write("controller.yaml", "log_level: [debug\n");
  controller.signal(SIGHUP);
  CHECK_FALSE(notify.wait_for("READY=1", 10s).empty());
  CHECK(controller.running());

  controller.signal(SIGTERM);
  CHECK(notify.wait_for("STOPPING=1", 10s).find("STATUS=shutting down") != std::string::npos);
  CHECK(controller.wait(30s) == 0);

  const std::string log = read_file(log_path);
  INFO(log);
  CHECK(log.starts_with("<6>info "));
  CHECK(log.find("<4>warn controller: reload: store.max_batch changed; it takes effect when the "
                 "controller restarts") != std::string::npos);
  CHECK(log.find("<6>info controller: configuration reloaded: log_level debug, admins "
                 "root,daemon") != std::string::npos);
  CHECK(log.find("<3>error controller: reload failed, the configuration in use is unchanged: " +
                 config + ":2:1: invalid YAML") != std::string::npos);
}

TEST_CASE("the agent reads its settings file reports to systemd and reloads on SIGHUP",
          "[integration][service]") {
  ControllerFixture controller;
  controller.start();
  TempDir dir;
  NotifySocket notify(dir.file("notify"));
  const std::string settings = "controller: " + controller.address() +
                               "\ninsecure: true\nnode_name: svc1\ntopology: " + source_dir() +
                               "/examples/topologies/dgx1-v100.yaml\ntier0: " + dir.file("tier0") +
                               "\nspool: " + dir.file("spool") + "\nfeatures: [nvme]\n";
  const std::string config = dir.write("agent.yaml", settings);

  auto checked = run_program({agent_binary(), "--config", config, "--check-config"});
  CHECK(checked.exit_code == 0);
  CHECK(checked.out == config + ": ok (node svc1, controller " + controller.address() + ")\n");
  const std::string bad = dir.write("bad.yaml", "node_name: svc1\ntier0_quota: lots\n");
  auto refused = run_program({agent_binary(), "--config", bad, "--check-config"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find(bad + ":2:") != std::string::npos);
  CHECK(refused.err.find("tier0_quota") != std::string::npos);

  const ScopedEnv env({{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "300000"}});
  ChildProcess agent({agent_binary(), "--config", config}, dir.file("agent.log"));
  CHECK(notify.wait_for("READY=1", 30s).find("STATUS=node svc1") != std::string::npos);
  CHECK_FALSE(notify.wait_for("STATUS=registered with the controller", 30s).empty());
  CHECK(notify.count("WATCHDOG=1") >= 1);

  dir.write("agent.yaml",
            settings + "log_level: debug\nstage_bandwidth: 100M\n" + "mpirun: /usr/bin/mpirun\n");
  agent.signal(SIGHUP);
  CHECK_FALSE(notify.wait_for("RELOADING=1", 10s).empty());
  CHECK_FALSE(notify.wait_for("READY=1", 10s).empty());
  agent.signal(SIGTERM);
  CHECK_FALSE(notify.wait_for("STOPPING=1", 10s).empty());
  CHECK(agent.wait(30s) == 0);
  const std::string log = read_file(dir.file("agent.log"));
  INFO(log);
  CHECK(log.find("info agent: configuration reloaded: log_level debug, stage_bandwidth 100M") !=
        std::string::npos);
  CHECK(log.find("warn agent: reload: mpirun changed; it takes effect when the agent restarts") !=
        std::string::npos);
}

TEST_CASE("an agent stopped with --drain-on-stop lets its job finish and its node returns UP",
          "[integration][service]") {
  ControllerFixture controller;
  controller.start();
  const SyCli cli{controller.address(), {}, {}};
  const TempDir& dir = controller.dir();
  const std::vector<std::string> agent_argv{
      agent_binary(),   "--insecure",
      "--controller",   controller.address(),
      "--node-name",    "drain1",
      "--tier0",        dir.file("tier0"),
      "--spool",        dir.file("spool"),
      "--topology",     source_dir() + "/examples/topologies/dgx1-v100.yaml",
      "--drain-on-stop"};
  auto agent = std::make_unique<ChildProcess>(agent_argv, dir.file("agent.log"));
  REQUIRE(eventually([&] { return cli.nodes_up() == 1; }, 20s));
  auto node = [&] {
    auto r = cli.run({"nodes", "--json"});
    auto nodes = nlohmann::json::parse(r.out, nullptr, false);
    return nodes.is_array() && nodes.size() == 1 ? nodes[0] : nlohmann::json::object();
  };

  const std::string id =
      cli.submit(dir.write("long.yaml", "command: [sleep, '3']\nresources: {gpus_per_node: 1}\n"));
  REQUIRE(eventually([&] { return cli.show(id).value("state", "") == "RUNNING"; }, 20s));

  agent->signal(SIGTERM);
  REQUIRE(eventually([&] { return node().value("state", "") == "DRAINING"; }, 10s));
  CHECK(node().value("reason", "").find("drain-on-stop") != std::string::npos);
  CHECK(agent->running());
  CHECK(cli.show(id).value("state", "") == "RUNNING");
  // Nothing new starts on a draining node.
  const std::string later =
      cli.submit(dir.write("short.yaml", "command: ['true']\nresources: {gpus_per_node: 1}\n"));

  CHECK(agent->wait(30s) == 0);  // once the job has ended and been recorded
  CHECK(cli.show(id).value("state", "") == "COMPLETED");
  CHECK(cli.show(later).value("state", "") == "PENDING");
  CHECK(node().value("state", "") == "DOWN");
  CHECK(node().value("reason", "") == "its agent stopped after its jobs finished");
  const std::string log = read_file(dir.file("agent.log"));
  INFO(log);
  CHECK(log.find("draining: running jobs finish") != std::string::npos);

  // Back again: UP without an administrator, and the queued job runs.
  agent = std::make_unique<ChildProcess>(agent_argv, dir.file("agent.log"));
  REQUIRE(eventually([&] { return cli.nodes_up() == 1; }, 20s));
  CHECK(eventually([&] { return cli.show(later).value("state", "") == "COMPLETED"; }, 30s));

  // A second signal does not wait for the job.
  const std::string stuck_id = cli.submit(
      dir.write("stuck.yaml", "command: [sleep, '60']\nresources: {gpus_per_node: 1}\n"));
  REQUIRE(eventually([&] { return cli.show(stuck_id).value("state", "") == "RUNNING"; }, 20s));
  agent->signal(SIGTERM);
  REQUIRE(eventually([&] { return node().value("state", "") == "DRAINING"; }, 10s));
  const auto second = std::chrono::steady_clock::now();
  agent->signal(SIGTERM);
  CHECK(agent->wait(20s) == 0);
  CHECK(std::chrono::steady_clock::now() - second < 20s);
}
