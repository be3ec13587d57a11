// A job is held to what the scheduler counted for it, by the kernel: its cpus_per_gpu CPUs
// (a cpuset it cannot widen), its memory_per_gpu (over it, the job is killed), and on cgroup v1
// its GPUs' device files alone (the node's other GPUs cannot be opened). And the scheduler
// counts CPUs: a job waits while its GPUs are free but its CPUs are not. Real controller and
// agent; the agent's topology names two stand-in GPU device files made here (character devices
// of the kernel's own: /dev/full's and /dev/random's numbers).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/fake_agent.hpp"
#include "tests/support/process.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;
using namespace std::chrono_literals;

namespace {

std::string two_gpu_topology(const TempDir& dir) {
  return dir.write("node.yaml",
                   "name: limits\n"
                   "sockets: 1\n"
                   "cpus: 2\n"
                   "memory: 2GiB\n"
                   "numa_nodes:\n"
                   "  - {id: 0, cpus: \"0-1\"}\n"
                   "gpus:\n"
                   "  - {index: 0, model: Test GPU, memory: 16G, numa: 0, device: " +
                       dir.file("dev/gpu0") +
                       "}\n"
                       "  - {index: 1, model: Test GPU, memory: 16G, numa: 0, device: " +
                       dir.file("dev/gpu1") +
                       "}\n"
                       "gpu_links:\n"
                       "  - [X, PHB]\n"
                       "  - [PHB, X]\n");
}

}  // namespace

TEST_CASE("a job is held to its CPUs, memory and GPU devices, and waits for CPUs",
          "[integration][limits]") {
  if (::geteuid() != 0) SY_SKIP("cgroups and device files need root");
  TempDir dir;
  std::filesystem::create_directories(dir.file("dev"));
  REQUIRE(::mknod(dir.file("dev/gpu0").c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0);
  REQUIRE(::mknod(dir.file("dev/gpu1").c_str(), S_IFCHR | 0666, makedev(1, 8)) == 0);
  ControllerFixture controller("nodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 5000}\n");
  controller.start();
  auto agent = start_fake_agent(controller, dir, "limits", {"--topology", two_gpu_topology(dir)});
  const SyCli cli{controller.address(), {}, {}};
  REQUIRE(eventually([&] { return cli.nodes_up() == 1; }, 20s));
  const std::string agent_log = read_file(controller.dir().file("limits.log"));
  INFO(agent_log);
  std::smatch by;
  REQUIRE(std::regex_search(agent_log, by, std::regex("job limits by ([^\n]*)")));
  if (by[1] == "none") SY_SKIP("no writable cgroup controllers on this machine");
  const bool v1_devices = by[1].str().find("devices (v1)") != std::string::npos;
  const bool memory = by[1].str().find("memory") != std::string::npos;
  const bool cpuset = by[1].str().find("cpuset") != std::string::npos;

  SECTION("CPUs, devices and the memory limit, as the job sees them") {
    const std::string id = cli.submit(dir.write(
        "probe.yaml",
        "name: probe\n"
        "resources: {gpus_per_node: 1, cpus_per_gpu: 1, memory_per_gpu: 64M}\n"
        "command: [sh, -c, 'mine=$CUDA_VISIBLE_DEVICES; other=$((1 - mine)); "
        "echo \"cpus $(grep Cpus_allowed_list /proc/self/status | cut -f2)\"; "
        "echo \"widened $(taskset -c 0-1 grep Cpus_allowed_list /proc/self/status | cut -f2)\"; "
        "head -c 1 " +
            dir.file("dev") +
            "/gpu$mine > /dev/null && echo mine-opened; "
            "head -c 1 " +
            dir.file("dev") +
            "/gpu$other > /dev/null 2>&1 && echo other-opened || "
            "echo other-refused; grep -E \"memory|cpuset\" /proc/self/cgroup']\n"));
    const auto job = cli.ended(id, 60);
    const std::string log = cli.run({"logs", id}).out;
    INFO(log);
    INFO(read_file(controller.dir().file("limits.log")));
    REQUIRE(job.value("state", "") == "COMPLETED");
    if (cpuset) {
      // One CPU, and the cpuset keeps it one even when the job asks for both.
      CHECK(std::regex_search(log, std::regex("cpus [01]\n")));
      CHECK(std::regex_search(log, std::regex("widened [01]\n")));
    }
    CHECK(log.find("mine-opened") != std::string::npos);
    if (v1_devices) {
      CHECK(log.find("other-refused") != std::string::npos);
    } else {
      announce_skip("the GPU device check: no v1 devices controller (cgroup v2 has none)");
    }
    if (memory) CHECK(std::regex_search(log, std::regex("memory:/\\S*-job-" + id + "\n")));
  }

  SECTION("past its memory the job is killed, within it the same work completes") {
    if (!memory) SY_SKIP("no memory controller here");
    const std::string big = cli.submit(
        dir.write("big.yaml",
                  "name: big\nresources: {gpus_per_node: 1, memory_per_gpu: 64M}\n"
                  "command: [python3, -c, 'b = bytearray(300 << 20); print(len(b))']\n"));
    const auto killed = cli.ended(big, 60);
    INFO(killed.dump());
    CHECK(killed.value("state", "") == "FAILED");
    const std::string fits = cli.submit(
        dir.write("fits.yaml",
                  "name: fits\nresources: {gpus_per_node: 1, memory_per_gpu: 1G}\n"
                  "command: [python3, -c, 'b = bytearray(300 << 20); print(len(b))']\n"));
    const auto done = cli.ended(fits, 60);
    CHECK(done.value("state", "") == "COMPLETED");
    CHECK(cli.run({"logs", fits}).out.find("314572800") != std::string::npos);
  }

  SECTION("a job waits for CPUs while its GPU is free") {
    const std::string first =
        cli.submit(dir.write("first.yaml",
                             "name: first\nresources: {gpus_per_node: 1, cpus_per_gpu: 2}\n"
                             "command: [sleep, '60']\n"));
    REQUIRE(eventually([&] { return cli.show(first).value("state", "") == "RUNNING"; }, 20s));
    const std::string second =
        cli.submit(dir.write("second.yaml",
                             "name: second\nresources: {gpus_per_node: 1, cpus_per_gpu: 2}\n"
                             "command: [sleep, '1']\n"));
    CHECK(eventually(
        [&] {
          return cli.show(second).value("reason", "").find("(with 2 CPUs)") != std::string::npos;
        },
        10s));
    CHECK(cli.show(second).value("state", "") == "PENDING");
    REQUIRE(cli.run({"cancel", first}).exit_code == 0);
    CHECK(cli.ended(second, 60).value("state", "") == "COMPLETED");
  }
}
