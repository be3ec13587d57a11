// Slurm batch scripts through `sy submit` on a fake two-node cluster (real sy-controller and
// sy-agent binaries): the script runs on the first node with Slurm's variables and its
// --output file; srun starts tasks on both nodes with their ranks and brings their output back
// (a pipe, $(...), stderr); scontrol expands host lists; and the real-world scripts of
// tests/data/sbatch that sy accepts run their launch structure with stand-in programs.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <sstream>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/fake_agent.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;
namespace fs = std::filesystem;

namespace {

// Nodes n1 and n2 (8 GPUs each), their agents and a CLI that submits from `dir`.
struct FakeCluster {
  ControllerFixture controller{"nodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 5000}\n"};
  TempDir dir;
  std::vector<std::unique_ptr<ChildProcess>> agents;
  SyCli cli;

  FakeCluster() {
    controller.start();
    for (const std::string node : {"n1", "n2"})
      agents.push_back(start_fake_agent(controller, dir, node));
    cli.address = controller.address();
    // Both "nodes" share this host: Open MPI's daemons talk over loopback.
    cli.env = {{"OMPI_MCA_oob_tcp_if_include", "lo"}, {"OMPI_MCA_btl_tcp_if_include", "lo"}};
    REQUIRE(eventually([&] { return cli.nodes_up() == 2; }, std::chrono::seconds(20)));
  }

  // `sy submit` of the script with sbatch options, from the work directory; the job's id.
  std::string submit(const std::string& script, std::vector<std::string> options = {}) {
    std::vector<std::string> args{"submit", "--parsable", "-D", dir.file("work")};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back(script);
    auto r = cli.run(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, r.out.find('\n'));
  }

  nlohmann::json ended(const std::string& id) const { return cli.ended(id, 90); }

  std::string work_file(const std::string& name) const {
    return read_file(dir.file("work/" + name));
  }
};

// The lines of a log that mention any of the words, each prefixed by the log's file name.
std::string lines_mentioning(const std::string& path, const std::vector<std::string>& words) {
  std::istringstream in(read_file(path));
  const std::string name = fs::path(path).filename();
  std::string found;
  for (std::string line; std::getline(in, line);) {
    for (const auto& w : words) {
      if (line.find(w) == std::string::npos) continue;
      found += name + ": " + line + "\n";
      break;
    }
  }
  return found;
}

}  // namespace

TEST_CASE("an sbatch script runs with srun and scontrol across two nodes",
          "[integration][slurm][sbatch]") {
  FakeCluster c;
  fs::create_directories(c.dir.file("work/out"));
  const std::string script = c.dir.write("probe.sbatch", R"(#!/bin/bash
#SBATCH --job-name=probe
#SBATCH --nodes=2 --ntasks-per-node=2   # two tasks on each node
#SBATCH --gres=gpu:2
#SBATCH --output=out/%x-%j.txt
echo "batch on $SLURMD_NODENAME job $SLURM_JOB_ID nodes $SLURM_JOB_NODELIST tasks $SLURM_NTASKS in $PWD"
export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
srun bash -c 'echo "task $SLURM_PROCID local $SLURM_LOCALID on $SLURMD_NODENAME nodeid $SLURM_NODEID master $MASTER_ADDR"' | sort
only=$(srun --nodes=1 --ntasks=1 -w n2 bash -c 'echo $SLURMD_NODENAME')
echo "captured $only"
srun -n 1 bash -c 'echo to-stderr >&2; exit 3'
echo "srun said $?"
srun --container-image=x true || echo "containers refused"
scontrol show job "$SLURM_JOB_ID" || echo "scontrol refused"
)");
  const std::string id = c.submit(script);
  const auto job = c.ended(id);
  const std::string out = c.work_file("out/probe-" + id + ".txt");
  INFO(out);
  INFO(c.controller.log());
  REQUIRE(job.value("state", "") == "COMPLETED");
  CHECK(out.find("batch on n1 job " + id + " nodes n[1-2] tasks 4 in " + c.dir.file("work")) !=
        std::string::npos);
  CHECK(out.find("task 0 local 0 on n1 nodeid 0 master n1\n"
                 "task 1 local 1 on n1 nodeid 0 master n1\n"
                 "task 2 local 0 on n2 nodeid 1 master n1\n"
                 "task 3 local 1 on n2 nodeid 1 master n1\n") != std::string::npos);
  CHECK(out.find("captured n2\n") != std::string::npos);
  CHECK(out.find("to-stderr\n") != std::string::npos);
  CHECK(out.find("srun said 3\n") != std::string::npos);
  CHECK(out.find("containers (pyxis/enroot) are not supported") != std::string::npos);
  CHECK(out.find("containers refused\n") != std::string::npos);
  CHECK(out.find("scontrol refused\n") != std::string::npos);
}

TEST_CASE("a login-shell batch script keeps srun and scontrol, and each srun is its own step",
          "[integration][slurm][sbatch]") {
  FakeCluster c;
  fs::create_directories(c.dir.file("work"));
  // bash -l reads /etc/profile, which sets PATH afresh: srun would be Slurm's own or none.
  const std::string script = c.dir.write("login.sbatch", R"SH(#!/bin/bash -l
#SBATCH -N 2 --gres=gpu:1 -o login.txt
echo "login shell: $(shopt -q login_shell && echo yes || echo no)"
echo "srun is $(command -v srun)"
echo "scontrol gives $(scontrol show hostnames | tr '\n' ' ')"
srun bash -c 'echo "step $SLURM_STEP_ID/$SLURM_STEPID task $SLURM_PROCID"' | sort
srun -N 1 bash -c 'echo "step $SLURM_STEP_ID task $SLURM_PROCID"'
srun -N 1 -w n2 bash -c 'echo "step $SLURM_STEP_ID on $SLURMD_NODENAME"' > a.txt &
srun -N 1 -w n1 bash -c 'echo "step $SLURM_STEP_ID on $SLURMD_NODENAME"' > b.txt &
wait
cat a.txt b.txt | sort
)SH");
  const std::string id = c.submit(script);
  const auto job = c.ended(id);
  const std::string out = c.work_file("login.txt");
  INFO(out);
  INFO(c.controller.log());
  REQUIRE(job.value("state", "") == "COMPLETED");
  CHECK(out.find("srun is /") != std::string::npos);
  // The job's own srun, from its bin directory on the node: not /usr/bin's.
  CHECK(std::regex_search(out, std::regex("srun is /\\S+/bin/srun\n")));
  CHECK(out.find("srun is /usr/bin/srun") == std::string::npos);
  CHECK(out.find("scontrol gives n1 n2 ") != std::string::npos);
  CHECK(out.find("step 0/0 task 0\nstep 0/0 task 1\n") != std::string::npos);
  CHECK(out.find("step 1 task 0\n") != std::string::npos);
  // The two at once got steps 2 and 3, one each.
  CHECK((out.find("step 2 on n1\nstep 3 on n2\n") != std::string::npos ||
         out.find("step 2 on n2\nstep 3 on n1\n") != std::string::npos));
}

TEST_CASE("a singleton dependency waits for the user's earlier jobs of the same name",
          "[integration][slurm][sbatch]") {
  FakeCluster c;
  fs::create_directories(c.dir.file("work"));
  const std::string script =
      c.dir.write("one.sbatch",
                  "#!/bin/bash\n#SBATCH -J only-one --gres=gpu:1 --dependency=singleton\n"
                  "sleep 30\n");
  const std::string first = c.submit(script);
  const std::string second = c.submit(script);
  const std::string other = c.submit(script, {"-J", "another"});
  const auto deps = c.cli.show(second)["spec"]["dependencies"];
  INFO(deps.dump());
  CHECK(deps["after_any"] == nlohmann::json::array({std::stoll(first)}));
  CHECK_FALSE(c.cli.show(first)["spec"].contains("dependencies"));
  CHECK_FALSE(c.cli.show(other)["spec"].contains("dependencies"));
  CHECK(c.cli.show(second).value("state", "") == "PENDING");
  for (const auto& id : {first, second, other})
    c.cli.run({"cancel", id});
}

TEST_CASE("the real-world sbatch scripts sy accepts run their launch structure",
          "[integration][slurm][sbatch]") {
  const std::string shared = source_dir() + "/tests/data/sbatch";
  const auto script_named = [&](const std::string& prefix) {
    for (const auto& e : fs::directory_iterator(shared)) {
      const std::string name = e.path().filename();
      if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".sbatch") return e.path().string();
    }
    FAIL("no script " << prefix << " in " << shared);
    return std::string();
  };
  FakeCluster c;
  // Stand-ins for the training programs: each says where it runs, as which task, with what.
  for (const std::string program : {"python", "torchrun"}) {
    const std::string path = c.dir.write(
        "bin/" + program, "#!/bin/sh\necho \"LAUNCH " + program +
                              " node=$SLURMD_NODENAME procid=$SLURM_PROCID args=$*\"\n");
    ::chmod(path.c_str(), 0755);
  }
  c.cli.env["PATH"] = c.dir.file("bin") + ":" + std::getenv("PATH");
  fs::create_directories(c.dir.file("work"));

  SECTION("08: srun bash -c 'python -m torch.distributed.run --node_rank $SLURM_PROCID' | tee") {
    const std::string id = c.submit(script_named("08_"));
    const auto job = c.ended(id);
    const std::string out = c.work_file("torchrun-launcher-" + id + ".out");
    INFO(out);
    CHECK(job.value("state", "") == "COMPLETED");
    for (const std::string rank : {"0", "1"}) {
      const std::string node = rank == "0" ? "n1" : "n2";
      CHECK(
          out.find("LAUNCH python node=" + node + " procid=" + rank +
                   " args=-u -m torch.distributed.run --nproc_per_node 8 --nnodes 2 --node_rank " +
                   rank + " --rdzv_endpoint n1:6000") != std::string::npos);
    }
    // srun's output went through the pipe into tee's log as well.
    CHECK(count_of(c.work_file("main_log.txt"), "LAUNCH python") == 2);
  }
  SECTION("11: srun python, two tasks on each node; site modules are missing, as they are here") {
    const std::string id = c.submit(script_named("11_"));
    const auto job = c.ended(id);
    const std::string out = c.work_file("slurm-" + id + ".out");
    INFO(out);
    CHECK(job.value("state", "") == "COMPLETED");
    CHECK(out.find("WORLD_SIZE=4") != std::string::npos);
    CHECK(out.find("MASTER_ADDR=n1") != std::string::npos);
    for (const auto& [node, rank] :
         {std::pair{"n1", "0"}, std::pair{"n1", "1"}, std::pair{"n2", "2"}, std::pair{"n2", "3"}}) {
      CHECK(out.find(std::string("LAUNCH python node=") + node + " procid=" + rank +
                     " args=mnist_classify_ddp.py --epochs=2") != std::string::npos);
    }
  }
  SECTION("12: the head node's address from $(srun -w head hostname), then srun torchrun") {
    // Four nodes asked for; two here (sbatch's own options override the script's).
    const std::string id = c.submit(script_named("12_"), {"--nodes=2"});
    const auto job = c.ended(id);
    const std::string out = c.work_file("slurm-" + id + ".out");
    INFO(out);
    CHECK(job.value("state", "") == "COMPLETED");
    const std::string ip = run_program({"/bin/hostname", "--ip-address"}).out;
    CHECK(out.find("Node IP: " + ip.substr(0, ip.find_first_of(" \n"))) != std::string::npos);
    CHECK(count_of(out, "LAUNCH torchrun node=n1") == 2);
    CHECK(count_of(out, "LAUNCH torchrun node=n2") == 2);
    CHECK(out.find("--rdzv_endpoint " + ip.substr(0, ip.find_first_of(" \n")) + ":29500") !=
          std::string::npos);
  }
  SECTION("01: mpirun -N 1 reaches both nodes; srun --container-image is refused by name") {
    const std::string id = c.submit(script_named("01_"));
    const auto job = c.ended(id);
    const std::string out = c.work_file("nccl-all_reduce_perf_" + id + ".out");
    const std::string err = c.work_file("nccl-all_reduce_perf_" + id + ".err");
    // mpirun's daemons start through the agents' exec orders: when it fails (seen once in CI,
    // never here) their side of it is what explains why, ahead of the long outputs.
    INFO("mpirun's error output:\n" << err.substr(0, 4000));
    INFO("exec and warning lines of n1, n2 and the controller:\n"
         << lines_mentioning(c.controller.dir().file("n1.log"),
                             {"exec", "asking", "rsh", "warn", "error"})
         << lines_mentioning(c.controller.dir().file("n2.log"),
                             {"exec", "asking", "rsh", "warn", "error"})
         << lines_mentioning(c.controller.dir().file("controller.log"), {"exec", "warn", "error"}));
    INFO(out);
    CHECK(job.value("state", "") == "FAILED");
    const std::string host = run_program({"/bin/hostname"}).out;
    CHECK(count_of(out, host.substr(0, host.find('\n')) + ":") == 2);
    CHECK(err.find("srun: error: --container-image: containers (pyxis/enroot) are not supported") !=
          std::string::npos);
  }
}
