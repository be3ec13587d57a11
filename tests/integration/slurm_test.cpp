// Switchyard with a real Slurm (Debian's slurmctld, slurmd and munged on loopback, started by
// tests/slurm/local-slurm with fake GPU nodes n1 and n2): `sy slurm-start` inside an sbatch
// allocation runs a job through its own controller and agents, and `sbatch --sy-dataset`
// stages a dataset in the job's prolog through the SPANK plugin and the node's sy-agent.
// Each test skips with local-slurm's reason where Slurm cannot run here (exit 77: not root, a
// program missing); any other failure to start fails the test.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <regex>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/fake_agent.hpp"
#include "tests/support/process.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;
namespace fs = std::filesystem;

namespace {

// A private Slurm for one test; `why_not` says why it is not up.
struct LocalSlurm {
  TempDir dir;
  std::string conf, why_not;

  explicit LocalSlurm(const std::string& plugstack = "") {
    // Ports of our own: controller P, slurmd P+1 and P+2, below the ephemeral range.
    const int port = 20000 + static_cast<int>(::getpid() % 4000) * 3;
    auto up = run_program({source_dir() + "/tests/slurm/local-slurm", "up", dir.file("slurm")},
                          {{"CTLD_PORT", std::to_string(port)},
                           {"NODES", "2"},
                           {"GPUS", "8"},
                           {"PLUGSTACK", plugstack}},
                          std::chrono::seconds(90));
    // 77 is local-slurm's "Slurm cannot run here" (not root, a program missing): a skip with its
    // reason. Any other failure to start is a failure of this test, not a skip.
    if (up.exit_code == 77) {
      why_not = "Slurm cannot run here: " + up.err;
      return;
    }
    INFO(up.out << up.err);
    REQUIRE(up.exit_code == 0);
    conf = up.out.substr(up.out.find('=') + 1);
    conf = conf.substr(0, conf.find('\n'));
  }
  ~LocalSlurm() {
    run_program({source_dir() + "/tests/slurm/local-slurm", "down", dir.file("slurm")});
  }
  std::map<std::string, std::string> env() const { return {{"SLURM_CONF", conf}}; }

  // sbatch ARGS; the job id.
  std::string sbatch(std::vector<std::string> args) const {
    args.insert(args.begin(), {"/usr/bin/env", "sbatch", "--parsable"});
    auto r = run_program(args, env());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, r.out.find_first_of(";\n"));
  }
  // Waits (bounded) until Slurm no longer lists the job.
  bool ended(const std::string& id, std::chrono::seconds limit) const {
    return eventually(
        [&] {
          auto q = run_program({"/usr/bin/env", "squeue", "-h", "-j", id, "-o", "%T"}, env());
          return q.exit_code == 0 && q.out.find_first_not_of(" \n") == std::string::npos;
        },
        limit);
  }
};

}  // namespace

TEST_CASE("sy slurm-start inside an sbatch allocation runs a job through its own Switchyard",
          "[integration][slurm][slurm-start]") {
  LocalSlurm slurm;
  if (!slurm.why_not.empty()) SY_SKIP(slurm.why_not);
  TempDir work;
  fs::create_directories(work.file("tmp"));
  work.write("job.yaml",
             "name: hello\n"
             "command: [sh, -c, 'echo hello rank $RANK on $SY_NODELIST']\n"
             "resources: {nodes: 2, gpus_per_node: 1}\n"
             "launcher: env\n");
  const std::string flow = work.write("flow.sh", R"(#!/bin/bash
sy nodes
id=$(sy submit --parsable job.yaml) || exit 1
for i in $(seq 300); do
  s=$(sy show "$id" | grep -o 'State=[A-Z]*')
  case $s in State=COMPLETED|State=FAILED|State=CANCELLED) break;; esac
  sleep 0.2
done
echo "job $id $s"
sy logs "$id" | sort
)");
  ::chmod(flow.c_str(), 0755);
  const std::string path =
      fs::path(cli_binary()).parent_path().string() + ":" + std::getenv("PATH");
  const std::string id =
      slurm.sbatch({"-N2", "--gres=gpu:8", "-o", work.file("out.txt"), "--chdir", work.path(),
                    // TMPDIR: the controller's database and the agents'
                    // directories stay in this test's own.
                    "--export=ALL,PATH=" + path + ",TMPDIR=" + work.file("tmp"), "--wrap",
                    "sy slurm-start --topology " + source_dir() +
                        "/examples/topologies/dgx1-v100.yaml -- ./flow.sh"});
  REQUIRE(slurm.ended(id, std::chrono::seconds(150)));
  const std::string out = read_file(work.file("out.txt"));
  INFO(out);
  INFO(read_file(work.file(".sy-slurm-" + id + "/controller.log")));
  CHECK(out.find("Switchyard is up on n[1-2]") != std::string::npos);
  CHECK(std::regex_search(out, std::regex("\nn1 +UP ")));
  CHECK(std::regex_search(out, std::regex("\nn2 +UP ")));
  CHECK(out.find("job 1 State=COMPLETED") != std::string::npos);
  CHECK(out.find("0: hello rank 0 on n1,n2\n1: hello rank 1 on n1,n2") != std::string::npos);
  // The allocation's own certificates were made, and its controller's state was removed.
  CHECK(fs::exists(work.file(".sy-slurm-" + id + "/tls/n2.crt")));
  CHECK(!fs::exists(work.file("tmp/sy-slurm-" + id + "/controller")));
  CHECK(fs::exists(work.file("tmp/sy-slurm-" + id + "-n2/spool")));
}

TEST_CASE("sbatch --sy-dataset stages the dataset in the job's prolog through the node's agent",
          "[integration][slurm][spank]") {
#ifndef SY_SPANK_PLUGIN
  SY_SKIP_FOR_PACKAGE("the SPANK plugin was not built (slurm/spank.h is missing)", "libslurm-dev");
#else
  ControllerFixture controller("nodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 5000}\n");
  controller.start();
  TempDir dir;
  std::vector<std::unique_ptr<ChildProcess> > agents;
  for (const std::string node : {"n1", "n2"})
    agents.push_back(start_fake_agent(controller, dir, node));
  const SyCli cli{controller.local_address(), {}, {}};
  REQUIRE(eventually([&] { return cli.nodes_up() == 2; }, std::chrono::seconds(20)));
  dir.write("shared/ds/train/part-0.txt", "the first shard\n");
  dir.write("shared/ds/labels.txt", "cat\ndog\n");
  auto added = cli.run({"dataset", "add", "ds", "--source", dir.file("shared/ds")});
  INFO(added.err);
  REQUIRE(added.exit_code == 0);

  const std::string plugstack =
      dir.write("plugstack.conf",
                std::string("required ") + SY_SPANK_PLUGIN + " sy=" + cli_binary() +
                    " controller=" + controller.local_address() + " tier0=" + dir.file("tier0-%n") +
                    " state=" + dir.file("spank-%n") + "\n");
  LocalSlurm slurm(plugstack);
  if (!slurm.why_not.empty()) SY_SKIP(slurm.why_not);
  // A bad name is refused when the job is submitted.
  auto bad = run_program({"/usr/bin/env", "sbatch", "--sy-dataset=no/such", "--wrap", "true"},
                         slurm.env());
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("--sy-dataset: 'no/such' is not a dataset name") != std::string::npos);

  const std::string id = slurm.sbatch(
      {"-N1", "--gres=gpu:1", "--sy-dataset=ds", "-o", dir.file("out.txt"), "--wrap",
       "echo \"node $SLURMD_NODENAME path $SY_DATASET_DS\"; cat \"$SY_DATASET_DS/labels.txt\" "
       "\"$SY_DATASET_DS/train/part-0.txt\""});
  REQUIRE(slurm.ended(id, std::chrono::seconds(90)));
  const std::string out = read_file(dir.file("out.txt"));
  INFO(out);
  INFO(read_file(slurm.dir.file("slurm/log/slurmd-n1.log")));
  CHECK(out.find("node n1 path " + dir.file("tier0-n1") + "/ds@") != std::string::npos);
  CHECK(out.find("cat\ndog\nthe first shard\n") != std::string::npos);
  // The node's agent holds the copy, so the controller places data-hungry jobs there.
  auto shown = cli.run({"dataset", "show", "ds", "--json"});
  CHECK(shown.out.find("\"n1\"") != std::string::npos);
  // What the prolog wrote for the tasks is gone with the job (the epilog).
  CHECK(eventually([&] { return !fs::exists(dir.file("spank-n1/job-" + id + ".env")); },
                   std::chrono::seconds(10)));
#endif
}
