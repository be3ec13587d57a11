// A job's limits on its node (agent/job_limits.hpp): which CPUs it gets, and what is written to
// its cgroups, v2 and v1, checked on stand-in directories (the files cgroupfs would have).
// tests/integration/job_limits_test.cpp checks that the kernel enforces them.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "agent/job_cgroup.hpp"
#include "agent/job_limits.hpp"
#include "agent/launch_plan.hpp"
#include "common/agent_protocol.hpp"
#include "common/topology/topology_file.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::agent;

namespace {

std::set<int> range(int lo, int hi) {
  std::set<int> out;
  for (int c = lo; c <= hi; ++c)
    out.insert(c);
  return out;
}

}  // namespace

TEST_CASE("a job gets free CPUs near its GPUs first, others' only when none is free",
          "[agent][limits]") {
  const std::set<int> usable = range(0, 7), near = range(4, 7);
  CHECK(choose_cpus(usable, near, {}, 2) == std::set<int>{4, 5});
  CHECK(choose_cpus(usable, near, {{4, 1}}, 3) == std::set<int>{5, 6, 7});
  CHECK(choose_cpus(usable, near, {{4, 1}, {5, 1}}, 4) == std::set<int>{0, 1, 6, 7});
  // Every CPU held once: the near ones again, least held first.
  std::map<int, int> all;
  for (int c = 0; c < 8; ++c)
    all[c] = c < 4 ? 2 : 1;
  CHECK(choose_cpus(usable, near, all, 2) == std::set<int>{4, 5});
  CHECK(choose_cpus(usable, near, {}, 20) == usable);  // no more than there are
  CHECK(choose_cpus(usable, near, {}, 0).empty());
}

TEST_CASE(
    "limits follow the order: CPUs near its GPUs, their NUMA nodes, the other GPUs' "
    "devices denied",
    "[agent][limits]") {
  auto t = topo::load_node_topology(test::source_dir() + "/examples/topologies/dgx1-v100.yaml");
  REQUIRE(t.ok());
  t->gpus[0].device = "/dev/nvidia0";
  t->gpus[5].device = "/dev/nvidia5";
  t->gpus[6].device = "/dev/nvidia6";
  const JobLimits l = limits_for(&t.value(), range(0, 79), {}, {5}, 4, 8192);
  CHECK(l.cpus == std::set<int>{20, 21, 22, 23});  // GPU 5 is on NUMA node 1 (20-39,60-79)
  CHECK(l.mems == std::set<int>{1});
  CHECK(l.memory_mib == 8192);
  CHECK(l.denied_devices == std::vector<std::string>{"/dev/nvidia0", "/dev/nvidia6"});
  CHECK(l.any());
  // Nothing asked, nothing limited but the devices.
  const JobLimits none = limits_for(&t.value(), range(0, 79), {}, {0, 5, 6}, 0, 0);
  CHECK(none.cpus.empty());
  CHECK_FALSE(none.any());

  // Processes bind to the job's CPUs near their GPU, or to all the job's CPUs.
  NodeContext ctx;
  ctx.topology = &t.value();
  ctx.usable_cpus = range(0, 79);
  ctx.job_cpus = {20, 21, 2};
  CHECK(cpus_near(ctx, {5}) == "20-21");
  ctx.job_cpus = {2, 3};
  CHECK(cpus_near(ctx, {5}) == "2-3");
}

TEST_CASE("cgroup v2: cpuset.cpus, cpuset.mems within the parent's, memory.max",
          "[agent][limits]") {
  test::TempDir dir;
  dir.write("cpuset.mems.effective", "0-1\n");
  std::filesystem::create_directories(dir.file("job"));
  JobLimits l;
  l.cpus = {0, 1, 2, 8};
  l.mems = {1, 3};  // 3 is not the machine's: left out
  l.memory_mib = 512;
  CgroupControllers c;
  c.v2_cpuset = c.v2_memory = true;
  REQUIRE(write_v2_limits(dir.file("job"), l, c).ok());
  CHECK(test::read_file(dir.file("job/cpuset.cpus")) == "0-2,8");
  CHECK(test::read_file(dir.file("job/cpuset.mems")) == "1");
  CHECK(test::read_file(dir.file("job/memory.max")) == "536870912");
  // Controllers the parent does not give: nothing written.
  std::filesystem::create_directories(dir.file("bare"));
  REQUIRE(write_v2_limits(dir.file("bare"), l, CgroupControllers{}).ok());
  CHECK_FALSE(std::filesystem::exists(dir.file("bare/memory.max")));
}

TEST_CASE(
    "cgroup v1: the cpuset's mems before its cpus, the memory limit, a deny rule per "
    "device",
    "[agent][limits]") {
  test::TempDir dir;
  dir.write("cpuset.mems", "0\n");
  std::filesystem::create_directories(dir.file("job"));
  JobLimits l;
  l.cpus = {1};
  l.mems = {2};  // not the parent's: the parent's list instead
  l.memory_mib = 64;
  l.denied_devices = {"/dev/null", "/dev/zero", "/no/such/device"};
  REQUIRE(write_v1_cpuset(dir.file("job"), l).ok());
  CHECK(test::read_file(dir.file("job/cpuset.mems")) == "0");
  CHECK(test::read_file(dir.file("job/cpuset.cpus")) == "1");
  REQUIRE(write_v1_memory(dir.file("job"), l).ok());
  CHECK(test::read_file(dir.file("job/memory.limit_in_bytes")) == "67108864");
  REQUIRE(write_v1_devices(dir.file("job"), l).ok());
  CHECK(test::read_file(dir.file("job/devices.deny")) == "c 1:3 rwm\nc 1:5 rwm\n");
  // A directory that is not there: the error names the file.
  auto bad = write_v1_memory(dir.file("missing"), l);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("missing/memory.limit_in_bytes") != std::string::npos);
}

TEST_CASE("launch orders carry the job's CPUs and memory, checked", "[agent][limits]") {
  protocol::LaunchOrder o;
  o.job = 7;
  o.command = {"true"};
  o.gpus = {1};
  o.cpus = 6;
  o.memory_mib = 4096;
  auto back = protocol::read_launch_order(protocol::launch_message(o));
  REQUIRE(back.ok());
  CHECK(back->cpus == 6);
  CHECK(back->memory_mib == 4096);
  auto m = protocol::launch_message(o);
  m["cpus"] = -1;
  CHECK(protocol::read_launch_order(m).error() ==
        "launch: cpus: must be a CPU count from 0 to 65536");
  m["cpus"] = 1;
  m["memory_mib"] = "lots";
  CHECK_FALSE(protocol::read_launch_order(m).ok());
}

TEST_CASE("job cgroups a dead agent of this node left are removed, no one else's",
          "[agent][limits]") {
  test::TempDir dir;
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(dead > 0);
  ::waitpid(dead, nullptr, 0);
  const std::string own = std::to_string(::getpid()), gone = std::to_string(dead);
  for (const std::string& name :
       {"sy-n1-" + gone + "-job-3", "sy-n1-" + own + "-job-4", "sy-n2-" + gone + "-job-5",
        std::string("sy-n1-x-job-6"), std::string("other")}) {
    std::filesystem::create_directories(dir.file(name));
  }
  CHECK(remove_stale_job_cgroups({dir.path()}, "n1") == 1);
  CHECK_FALSE(std::filesystem::exists(dir.file("sy-n1-" + gone + "-job-3")));
  CHECK(std::filesystem::exists(dir.file("sy-n1-" + own + "-job-4")));   // a live agent's
  CHECK(std::filesystem::exists(dir.file("sy-n2-" + gone + "-job-5")));  // another node's
  CHECK(std::filesystem::exists(dir.file("sy-n1-x-job-6")));
  CHECK(std::filesystem::exists(dir.file("other")));
}
