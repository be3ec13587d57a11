// Slurm compatibility: host lists both ways, output file patterns, sbatch directives becoming a
// job, and what sy says of each real-world script in tests/data/sbatch.
#include <catch2/catch.hpp>

#include <filesystem>

#include "common/job_record.hpp"
#include "common/job_spec.hpp"
#include "common/slurm/hostlist.hpp"
#include "common/slurm/job_environment.hpp"
#include "common/slurm/sbatch_script.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::slurm;

namespace {

std::vector<std::string> expand(const std::string& list) {
  auto r = expand_hostlist(list);
  INFO(list);
  REQUIRE(r.ok());
  return r.value();
}

SbatchContext context(int whole_node_gpus = 8) {
  SbatchContext ctx;
  ctx.file = "job.sbatch";
  ctx.submit_dir = "/home/ada/run";
  ctx.submit_host = "login1";
  ctx.whole_node_gpus = whole_node_gpus;
  ctx.environment = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/home/ada"}, {"SLURM_JOB_ID", "7"}};
  return ctx;
}

// The job a script becomes, through the same checks `sy submit` applies.
JobSpec job_of(const std::string& script, const SbatchContext& ctx = context()) {
  auto translated = job_from_sbatch(script, ctx);
  if (!translated) FAIL(translated.error().to_string());
  auto spec = job_spec_from_document(Document::from_value(translated->job, ctx.file));
  if (!spec) FAIL(spec.error().to_string());
  return spec.value();
}

std::string refusal(const std::string& script, const SbatchContext& ctx = context()) {
  auto translated = job_from_sbatch(script, ctx);
  REQUIRE_FALSE(translated.ok());
  return translated.error().to_string();
}

}  // namespace

TEST_CASE("host lists expand and compress as Slurm writes them", "[slurm]") {
  CHECK(expand("n1") == std::vector<std::string>{"n1"});
  CHECK(expand("n[1-3,7]") == std::vector<std::string>{"n1", "n2", "n3", "n7"});
  CHECK(expand("gpu[08-11],login") ==
        std::vector<std::string>{"gpu08", "gpu09", "gpu10", "gpu11", "login"});
  CHECK(expand("rack[1-2]-n") == std::vector<std::string>{"rack1-n", "rack2-n"});
  CHECK(compress_hostlist({"n1", "n2", "n3", "n7"}) == "n[1-3,7]");
  CHECK(compress_hostlist({"node01", "node02", "login"}) == "node[01-02],login");
  CHECK(compress_hostlist({"a"}) == "a");
  CHECK(compress_hostlist({"n9", "n10"}) == "n9,n10");  // widths differ: Slurm keeps them apart
  for (const std::string bad : {"n[1-", "n]", "n[3-1]", "n[a-b]", "n[]", "n[[1]]"}) {
    INFO(bad);
    CHECK_FALSE(expand_hostlist(bad).ok());
  }
  CHECK_FALSE(expand_hostlist("n[0-99999999]").ok());  // bounded
}

TEST_CASE("output file patterns take Slurm's replacements", "[slurm]") {
  const OutputNames names{.job = 42,
                          .name = "train",
                          .array_job = 40,
                          .array_index = 2,
                          .user = "ada",
                          .first_node = "n1"};
  CHECK(expand_output_pattern("%x_%j.out", names) == "train_42.out");
  CHECK(expand_output_pattern("logs/%A_%a-%u-%N.%%", names) == "logs/40_2-ada-n1.%");
  CHECK(expand_output_pattern("slurm-%5j.out", names) == "slurm-00042.out");
  CHECK(expand_output_pattern("odd-%q-%", names) == "odd-%q-%");
}

TEST_CASE("sbatch directives become the job's resources and limits", "[slurm]") {
  const JobSpec spec = job_of(
      "#!/bin/bash\n"
      "# a comment before the directives\n"
      "#SBATCH --job-name=ddp-torch     # create a short name\n"
      "#SBATCH --nodes=2 --ntasks-per-node=2\n"
      "#SBATCH -c 8\n"
      "#SBATCH --mem=32G\n"
      "#SBATCH --gres=gpu:a100:2\n"
      "#SBATCH -t 1-00:30\n"
      "#SBATCH --constraint=ib&nvme\n"
      "#SBATCH --dependency=afterok:5:6,afterany:7\n"
      "#SBATCH --array=0-3%2\n"
      "#SBATCH -o logs/%x-%A_%a.out -e logs/%x-%A_%a.err\n"
      "srun python train.py\n"
      "#SBATCH --nodes=9\n");  // after the first command: a comment, as in sbatch
  CHECK(spec.name == "ddp-torch");
  CHECK(spec.resources.nodes == 2);
  CHECK(spec.resources.gpus_per_node == 2);
  CHECK(spec.resources.cpus_per_gpu == 8);  // 2 tasks x 8 CPUs over 2 GPUs
  CHECK(spec.resources.memory_per_gpu_mib == 16 * 1024);
  CHECK(spec.resources.gpu_model == "a100");
  CHECK(spec.resources.features == std::vector<std::string>{"ib", "nvme"});
  CHECK(spec.time_limit_s == 24 * 3600 + 30 * 60);
  CHECK(spec.after_ok == std::vector<std::int64_t>{5, 6});
  CHECK(spec.after_any == std::vector<std::int64_t>{7});
  REQUIRE(spec.array);
  CHECK(spec.array->limit == 2);
  CHECK(spec.workdir == "/home/ada/run");
  CHECK(spec.launcher == Launcher::none);
  REQUIRE(spec.script);
  CHECK(spec.script->rfind("#!/bin/bash\n", 0) == 0);
  REQUIRE(spec.slurm);
  CHECK(spec.slurm->ntasks_per_node == 2);
  CHECK(spec.slurm->cpus_per_task == 8);
  CHECK(spec.slurm->output == "logs/%x-%A_%a.out");
  CHECK(spec.slurm->error == "logs/%x-%A_%a.err");
  CHECK(spec.slurm->submit_host == "login1");
  // The submitter's environment is exported, but not its own Slurm job's variables.
  CHECK(spec.env.at("HOME") == "/home/ada");
  CHECK_FALSE(spec.env.contains("SLURM_JOB_ID"));
  // The spec survives the database round trip.
  auto again = job_spec_from_stored_json(job_spec_to_json(spec));
  REQUIRE(again.ok());
  CHECK(again.value() == spec);
}

TEST_CASE("sbatch options on the command line override the script's", "[slurm]") {
  SbatchContext ctx = context();
  ctx.command_line = {"-N", "3", "--time=10", "--export=NONE"};
  const JobSpec spec = job_of("#!/bin/sh\n#SBATCH -N 1 --gpus-per-node 4\necho hi\n", ctx);
  CHECK(spec.resources.nodes == 3);
  CHECK(spec.resources.gpus_per_node == 4);
  CHECK(spec.time_limit_s == 600);
  CHECK(spec.env.empty());
  CHECK(spec.slurm->output == "slurm-%j.out");
  CHECK(spec.name == "job.sbatch");
}

TEST_CASE("SBATCH_* variables override the script and the command line overrides them", "[slurm]") {
  const std::string script =
      "#!/bin/sh\n#SBATCH -J from-script -t 5 --gpus-per-node 2 -A research\necho hi\n";
  SbatchContext ctx = context();
  ctx.environment["SBATCH_TIMELIMIT"] = "30";
  ctx.environment["SBATCH_JOB_NAME"] = "from-env";
  ctx.environment["SBATCH_GRES"] = "gpu:4";
  ctx.environment["SBATCH_REQUEUE"] = "";
  JobSpec spec = job_of(script, ctx);
  CHECK(spec.time_limit_s == 1800);
  CHECK(spec.name == "from-env");
  CHECK(spec.resources.gpus_per_node == 4);  // the variable's GPU form replaced the script's
  CHECK(spec.account == std::optional<std::string>("research"));
  CHECK(spec.requeue);
  ctx.command_line = {"--time=10", "--gpus-per-node=8"};
  spec = job_of(script, ctx);
  CHECK(spec.time_limit_s == 600);
  CHECK(spec.resources.gpus_per_node == 8);
  CHECK(spec.name == "from-env");
  // A wrong value names where it came from.
  ctx.command_line.clear();
  ctx.environment["SBATCH_TIMELIMIT"] = "soon";
  CHECK(refusal(script, ctx).find("environment (SBATCH_*)") != std::string::npos);
  CHECK(refusal(script, ctx).find("--time") != std::string::npos);
}

TEST_CASE("sbatch exclusive gives whole nodes and GPU counts must agree", "[slurm]") {
  CHECK(job_of("#!/bin/bash\n#SBATCH --exclusive -N 2\nsrun true\n").resources.gpus_per_node == 8);
  auto translated =
      job_from_sbatch("#!/bin/bash\n#SBATCH --exclusive --gpus-per-node=2\ntrue\n", context());
  REQUIRE(translated.ok());
  CHECK(translated->job["resources"]["gpus_per_node"] == 8);
  REQUIRE(translated->warnings.size() == 1);
  CHECK(translated->warnings[0].find("every GPU of its nodes (8)") != std::string::npos);
  CHECK(refusal("#!/bin/bash\n#SBATCH --exclusive\ntrue\n", context(0))
            .find("how many GPUs a node has is unknown") != std::string::npos);
  CHECK(refusal("#!/bin/bash\n#SBATCH -N 2\ntrue\n").find("asks for no GPUs") != std::string::npos);
  CHECK(refusal("#!/bin/bash\n#SBATCH --gres=gpu:8 --gpus-per-node=4\ntrue\n")
            .find("--gres: asks for 8 GPUs per node but --gpus-per-node asks for 4") !=
        std::string::npos);
  CHECK(
      job_of("#!/bin/bash\n#SBATCH -N 4 -n 4 --gpus-per-task=1\ntrue\n").resources.gpus_per_node ==
      1);
  CHECK(job_of("#!/bin/bash\n#SBATCH -N 2 -G 8\ntrue\n").resources.gpus_per_node == 4);
}

TEST_CASE("what sbatch accepts but sy cannot honour is refused with its line", "[slurm]") {
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1\n#SBATCH --begin=now+1h\n") ==
        "job.sbatch:3:1: --begin: is not an sbatch option Switchyard supports (supported: "
        "--job-name, --nodes, --ntasks, --ntasks-per-node, --gpus-per-node, --gpus, "
        "--gpus-per-task, --gres=gpu:N, --time, --output, --error, --cpus-per-task, --mem, "
        "--exclusive, --dependency, --array, ...)");
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1 --nodes=2-4\n").find("job.sbatch:2:1: --nodes:") == 0);
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1 --dependency=afternotok:4\n")
            .find("only afterok:ID[:ID...], afterany:ID[:ID...] and singleton") !=
        std::string::npos);
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1 --gres=gpu:2,nic:1\n").find("'nic:1'") !=
        std::string::npos);
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1 --time=soon\n").find("job.sbatch:2:1: --time:") == 0);
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1 --nodes\n") == "job.sbatch:2:1: --nodes: needs a value");
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1 oops\n").find("'oops' is not an option") !=
        std::string::npos);
  CHECK(refusal("echo no interpreter\n").find("must start with '#!'") != std::string::npos);
  CHECK(refusal("#!/bin/bash\r\n#SBATCH -G 1\r\n").find("DOS line breaks") != std::string::npos);
  CHECK(refusal("#!/bin/bash\n#SBATCH -N 3 -n 4 -G 3\n").find("do not spread evenly") !=
        std::string::npos);
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1 --array=3-1\n").find("--array") != std::string::npos);
  CHECK(refusal(std::string("#!/bin/bash\n#SBATCH -G 1 -J \xff\n")).find("not UTF-8") !=
        std::string::npos);
}

TEST_CASE("sbatch's command line replaces the script's constraint and GPU request", "[slurm]") {
  const std::string script =
      "#!/bin/bash\n#SBATCH -N 2 --gres=gpu:v100:8 --constraint=ib&nvme\nsrun true\n";
  SbatchContext ctx = context();
  ctx.command_line = {"--constraint=a100-80g", "--gres=gpu:2"};
  const JobSpec spec = job_of(script, ctx);
  CHECK(spec.resources.features == std::vector<std::string>{"a100-80g"});
  CHECK(spec.resources.gpus_per_node == 2);
  CHECK_FALSE(spec.resources.gpu_model.has_value());  // the script's v100 went with its --gres
  CHECK(spec.resources.nodes == 2);
  // Another GPU form on the command line replaces the script's --gres too (no disagreement).
  ctx.command_line = {"--gpus-per-node=4"};
  CHECK(job_of(script, ctx).resources.gpus_per_node == 4);
  // Inside one script, as in sbatch, the later directive wins.
  const JobSpec later = job_of(
      "#!/bin/bash\n#SBATCH --gres=gpu:8\n#SBATCH --gres=gpu:2\n#SBATCH -C ib\n#SBATCH -C nvme\n");
  CHECK(later.resources.gpus_per_node == 2);
  CHECK(later.resources.features == std::vector<std::string>{"nvme"});
}

TEST_CASE("directives of real training scripts: NAME@PARTITION, singleton, CPU layout", "[slurm]") {
  auto translated = job_from_sbatch(
      "#!/bin/bash\n#SBATCH -G 4 --account=six@v100 --dependency=singleton,afterok:3\n"
      "#SBATCH --sockets-per-node=2 --cores-per-socket=20 --threads-per-core=1\n",
      context());
  if (!translated) FAIL(translated.error().to_string());
  CHECK(translated->job["account"] == "six");
  CHECK(translated->singleton);
  CHECK(translated->job["dependencies"]["after_ok"] == nlohmann::json::array({3}));
  REQUIRE(translated->warnings.size() == 4);
  CHECK(translated->warnings[0].find("job.sbatch:2: --account: 'six@v100' is charged to account "
                                     "'six'") == 0);
  for (int i = 1; i < 4; ++i)
    CHECK(translated->warnings[static_cast<std::size_t>(i)].find("job.sbatch:3: --") == 0);
  CHECK(translated->warnings[3].find("ignored: Switchyard picks nodes by their GPUs") !=
        std::string::npos);
  // Still checked: a bad count or account is refused.
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1 --cores-per-socket=many\n")
            .find("job.sbatch:2:1: --cores-per-socket: 'many' must be a whole number") == 0);
  CHECK(refusal("#!/bin/bash\n#SBATCH -G 1 --account=six@\n").find("--account: 'six@'") !=
        std::string::npos);
}

TEST_CASE("every refused directive of a submit is reported at once", "[slurm]") {
  SbatchContext ctx = context();
  ctx.command_line = {"--begin=now"};
  const std::string all =
      refusal("#!/bin/bash\n#SBATCH -G 1 --licenses=x --nodes=2-4\n#SBATCH --time=soon -X\n", ctx);
  INFO(all);
  CHECK(all.find("job.sbatch:2:1: --licenses: is not an sbatch option") == 0);
  CHECK(all.find("(and 4 more refused below)") != std::string::npos);
  CHECK(all.find("\njob.sbatch:2:1: --nodes: '2-4'") != std::string::npos);
  CHECK(all.find("\njob.sbatch:3:1: --time: 'soon'") != std::string::npos);
  CHECK(all.find("\njob.sbatch:3:1: -X: is not an sbatch option") != std::string::npos);
  CHECK(all.find("\ncommand line: --begin: is not an sbatch option") != std::string::npos);
}

TEST_CASE("directives sy decides otherwise are accepted with a warning", "[slurm]") {
  auto translated = job_from_sbatch(
      "#!/bin/bash\n#SBATCH -G 1 -p gpu --mail-type=end --hint=nomultithread\n", context());
  REQUIRE(translated.ok());
  REQUIRE(translated->warnings.size() == 3);
  CHECK(translated->warnings[0] ==
        "job.sbatch:2: --partition: ignored: Switchyard has one queue ordered by priority and "
        "fair share; 'gpu' does not choose nodes");
  CHECK(translated->warnings[1] == "job.sbatch:2: --mail-type: ignored: Switchyard sends no mail");
}

TEST_CASE("a batch script is told what Slurm would tell it", "[slurm]") {
  JobRecord job;
  job.id = 12;
  job.user = "ada";
  job.spec = job_of("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=4 --gres=gpu:4 -J t -c 2\n");
  job.array_id = 10;
  job.array_index = 2;
  const auto env = slurm::job_environment(job, {"n1", "n2"});
  CHECK(env.at("SLURM_JOB_ID") == "12");
  CHECK(env.at("SLURM_JOB_NODELIST") == "n[1-2]");
  CHECK(env.at("SLURM_NNODES") == "2");
  CHECK(env.at("SLURM_NTASKS") == "8");
  CHECK(env.at("SLURM_TASKS_PER_NODE") == "4(x2)");
  CHECK(env.at("SLURM_CPUS_PER_TASK") == "2");
  CHECK(env.at("SLURM_JOB_NAME") == "t");
  CHECK(env.at("SLURM_ARRAY_JOB_ID") == "10");
  CHECK(env.at("SLURM_ARRAY_TASK_ID") == "2");
  CHECK(env.at("SLURM_SUBMIT_DIR") == "/home/ada/run");
  const auto node = slurm::node_environment(1, "n2", {4, 5, 6, 7});
  CHECK(node.at("SLURM_NODEID") == "1");
  CHECK(node.at("SLURMD_NODENAME") == "n2");
  CHECK(node.at("SLURM_JOB_GPUS") == "4,5,6,7");
  const auto files = slurm::output_files(job, {"n1", "n2"});
  CHECK(files.stdout_path == "slurm-12.out");
  CHECK(files.stderr_path == files.stdout_path);
}

// tests/data/sbatch: each real script is either taken (with the job it becomes) or refused with
// the reason; tests/integration/sbatch_test.cpp runs the ones taken.
TEST_CASE("every shared real-world sbatch script is accepted or refused precisely", "[slurm]") {
  const std::string dir = test::source_dir() + "/tests/data/sbatch";
  struct Expect {
    const char* prefix;
    int nodes, gpus_per_node;  // 0: refused
    const char* refusal_or_name;
  };
  const Expect expected[] = {
      {"01_", 2, 8, "nccl-all_reduce_perf"},  // --exclusive: whole 8-GPU nodes
      {"02_", 2, 8, "nccl-all_reduce_perf"},
      {"03_", 4, 8, "llama3_1_8b-FSDP"},
      {"04_", 2, 8, "ddp-venv"},
      {"05_", 1, 8, "convert-llama-weights-to-megatron-deepspeed"},
      {"06_", 2, 8, "train-mpt"},
      {"07_", 128, 4, "tr1-13B-round3"},  // --account=six@v100: account six
      {"08_", 2, 8, "torchrun-launcher"},
      {"09_", 2, 8, "accelerate-launcher"},
      {"10_", 2, 8, "all_reduce_bench_pyxis"},
      {"11_", 2, 2, "ddp-torch"},
      {"12_", 4, 1, "multinode-example"},
      {"13_", 0, 0,
       ":1:1: the interpreter line '#!/bin/sh \u2013l' has a typographic dash (U+2013 EN DASH)"},
  };
  int seen = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename();
    if (e.path().extension() != ".sbatch") continue;
    const Expect* x = nullptr;
    for (const auto& candidate : expected) {
      if (name.rfind(candidate.prefix, 0) == 0) x = &candidate;
    }
    INFO(name);
    REQUIRE(x != nullptr);
    ++seen;
    SbatchContext ctx = context();
    ctx.file = name;
    auto translated = job_from_sbatch(test::read_file(e.path()), ctx);
    if (x->nodes == 0) {
      REQUIRE_FALSE(translated.ok());
      CHECK(translated.error().to_string().find(name + x->refusal_or_name) == 0);
      continue;
    }
    if (!translated) FAIL(translated.error().to_string());
    auto spec = job_spec_from_document(Document::from_value(translated->job, name));
    if (!spec) FAIL(spec.error().to_string());
    CHECK(spec->name == x->refusal_or_name);
    CHECK(spec->resources.nodes == x->nodes);
    CHECK(spec->resources.gpus_per_node == x->gpus_per_node);
  }
  CHECK(seen == 13);
}
