// What a launch order starts on a node (launch_plan.hpp), how process output is labelled
// (labelled_lines.hpp), and the launch-related protocol messages: pure, no processes.
#include <catch2/catch.hpp>

#include "agent/labelled_lines.hpp"
#include "agent/launch_plan.hpp"
#include "common/topology/topology_file.hpp"
#include "tests/support/controller_fixture.hpp"

using namespace sy;

namespace {

topo::NodeTopology dgx1() {
  auto t = topo::load_node_topology(test::source_dir() + "/examples/topologies/dgx1-v100.yaml");
  REQUIRE(t.ok());
  return t.value();
}

protocol::LaunchOrder order(const std::string& launcher) {
  protocol::LaunchOrder o;
  o.job = 42;
  o.command = {"python3", "train.py"};
  o.launcher = launcher;
  o.gpus = {0, 5};
  o.first_rank = 2;
  o.world_size = 4;
  o.master_addr = "10.0.0.1";
  o.master_port = 29542;
  return o;
}

}  // namespace

TEST_CASE("cpu lists parse and print back") {
  CHECK(agent::parse_cpu_list("0-3,8,10-11") == std::set<int>{0, 1, 2, 3, 8, 10, 11});
  CHECK(agent::cpu_list_text({0, 1, 2, 3, 8, 10, 11}) == "0-3,8,10-11");
  CHECK(agent::parse_cpu_list("x,2-1,5") == std::set<int>{5});
  CHECK(agent::cpu_list_text({}) == "");
}

TEST_CASE("env launch: one rank per GPU with torchrun's variables, bound near its GPU") {
  const auto topology = dgx1();
  agent::NodeContext ctx;
  ctx.topology = &topology;
  ctx.usable_cpus = {0, 1, 20, 21, 40};
  ctx.workdir = "/w";
  // GPU 0 is on NUMA 0, GPU 5 on NUMA 1 in this topology.
  REQUIRE(topology.gpus[0].numa == 0);
  REQUIRE(topology.gpus[5].numa == 1);
  const auto plan = agent::plan_processes(order("env"), ctx);
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].label == "2");
  CHECK(plan[0].rank == 2);
  CHECK(plan[0].argv == std::vector<std::string>{"python3", "train.py"});
  CHECK(plan[0].env.at("RANK") == "2");
  CHECK(plan[0].env.at("LOCAL_RANK") == "0");
  CHECK(plan[0].env.at("WORLD_SIZE") == "4");
  CHECK(plan[0].env.at("LOCAL_WORLD_SIZE") == "2");
  CHECK(plan[0].env.at("GROUP_RANK") == "1");
  CHECK(plan[0].env.at("MASTER_ADDR") == "10.0.0.1");
  CHECK(plan[0].env.at("MASTER_PORT") == "29542");
  CHECK(plan[0].env.at("CUDA_VISIBLE_DEVICES") == "0");
  CHECK(plan[1].env.at("CUDA_VISIBLE_DEVICES") == "5");
  CHECK(plan[1].env.at("RANK") == "3");
  // The NIC nearest each GPU, as NCCL names RDMA devices.
  CHECK(plan[0].env.at("NCCL_IB_HCA") == "mlx5_0");
  CHECK(plan[1].env.at("NCCL_IB_HCA") == "mlx5_1");
  // Only usable CPUs of the GPU's NUMA node (dgx1: NUMA 0 = 0-19,40-59; NUMA 1 = 20-39,60-79).
  CHECK(plan[0].cpus == "0-1,40");
  CHECK(plan[1].cpus == "20-21");

  // The job's own NCCL setting wins over the hint.
  auto own = order("env");
  own.env["NCCL_IB_HCA"] = "mlx5_3";
  CHECK(!agent::plan_processes(own, ctx)[0].env.contains("NCCL_IB_HCA"));
}

TEST_CASE("none launch: one process on the first node only, mpi: mpirun there, nothing elsewhere") {
  const auto topology = dgx1();
  agent::NodeContext ctx;
  ctx.topology = &topology;
  ctx.agent_path = "/usr/sbin/sy-agent";
  ctx.hostfile = "/spool/42/hostfile";
  ctx.hostname = "gpu01";
  auto none = order("none");
  const auto one = agent::plan_processes(none, ctx);
  REQUIRE(one.size() == 1);
  CHECK(one[0].label == "0");
  none.leader = false;
  CHECK(agent::plan_processes(none, ctx).empty());

  auto mpi = order("mpi");
  mpi.hosts = {{.node = "gpu01", .slots = 2}, {.node = "gpu02", .slots = 2}};
  const auto leader = agent::plan_processes(mpi, ctx);
  REQUIRE(leader.size() == 1);
  CHECK(leader[0].label == "mpirun");
  CHECK(leader[0].mpi_tags);
  const auto& argv = leader[0].argv;
  const auto has = [&](std::vector<std::string> seq) {
    return std::search(argv.begin(), argv.end(), seq.begin(), seq.end()) != argv.end();
  };
  CHECK(argv.front() == "mpirun");
  CHECK(has({"--hostfile", "/spool/42/hostfile"}));
  CHECK(has({"-np", "4"}));
  CHECK(has({"--mca", "plm_rsh_agent", "/usr/sbin/sy-agent rsh"}));
  CHECK(has({"/usr/sbin/sy-agent", "rank", "--", "python3", "train.py"}));
  CHECK(!has({"--allow-run-as-root"}));
  CHECK(agent::mpi_hostfile(mpi, "real-host") == "real-host slots=2\ngpu02 slots=2\n");
  const auto env = agent::node_environment(mpi, ctx);
  CHECK(env.at("SY_NODE_GPUS") == "0,5");
  mpi.leader = false;
  CHECK(agent::plan_processes(mpi, ctx).empty());
}

TEST_CASE("output lines are labelled with their rank, and mpirun's tags become the label") {
  agent::LabelledLines lines("3", false);
  CHECK(lines.feed("loss 0.5\nloss") == "3: loss 0.5\n");
  CHECK(lines.feed(" 0.4\n") == "3: loss 0.4\n");
  CHECK(lines.feed("no newline") == "");
  CHECK(lines.finish() == "3: no newline\n");

  agent::LabelledLines mpi("mpirun", true);
  CHECK(mpi.feed("[1,2]<stdout>:hello\n[1,10]<stderr>:oops\nplain\n") ==
        "2: hello\n10: oops\nmpirun: plain\n");

  const std::string report =
      "mpirun: mpirun detected that one or more processes exited with non-zero status, thus "
      "causing\nmpirun: the job to be terminated. The first process to do so was:\nmpirun: \n"
      "mpirun:   Process name: [[24113,1],2]\nmpirun:   Exit code:    7\n";
  const auto f = agent::mpirun_first_failure(report);
  REQUIRE(f);
  CHECK(f->rank == 2);
  CHECK(f->exit_code == 7);
  const auto killed = agent::mpirun_first_failure(
      "mpirun noticed that process rank 1 with PID 0 on node vm exited on signal 9 (Killed).");
  REQUIRE(killed);
  CHECK(killed->rank == 1);
  CHECK(killed->exit_code == 137);
  CHECK(!agent::mpirun_first_failure("all fine"));
}

TEST_CASE("launch and exec and output messages round-trip and refuse what is malformed") {
  auto o = order("mpi");
  o.hosts = {{.node = "gpu01", .slots = 2}, {.node = "gpu02", .slots = 2}};
  o.user = "alice";
  auto back = protocol::read_launch_order(protocol::launch_message(o));
  REQUIRE(back.ok());
  CHECK(back->launcher == "mpi");
  CHECK(back->hosts == o.hosts);
  CHECK(back->first_rank == 2);
  CHECK(back->world_size == 4);
  CHECK(back->user == "alice");
  auto bad = protocol::launch_message(o);
  bad["launcher"] = "ssh";
  CHECK(protocol::read_launch_order(bad).error() == "launch: launcher: must be none, env or mpi");
  bad = protocol::launch_message(o);
  bad["user"] = "alice; rm -rf /";
  CHECK(!protocol::read_launch_order(bad).ok());
  bad = protocol::launch_message(o);
  bad["first_rank"] = 4;
  CHECK(!protocol::read_launch_order(bad).ok());

  const protocol::ExecOrder exec{
      .request = "42-1-7", .job = 42, .node = "gpu02", .command = "orted -mca ess env"};
  auto e = protocol::read_exec(protocol::exec_request_message(exec));
  REQUIRE(e.ok());
  CHECK(e->command == exec.command);
  auto bad_exec = protocol::exec_message(exec);
  bad_exec["node"] = "../x";
  CHECK(!protocol::read_exec(bad_exec).ok());

  auto out = protocol::read_job_output(
      protocol::job_output_message({.job = 42, .offset = 10, .end = 14, .text = "0: a\n"}));
  REQUIRE(out.ok());
  CHECK(out->end == 14);
  CHECK(utf8_text("ok \xff\xc3\xa9 \xe2\x82") == "ok ?\xc3\xa9 ??");
}
