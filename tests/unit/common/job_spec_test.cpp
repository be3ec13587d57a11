#include <catch2/catch.hpp>

#include <filesystem>

#include "common/job_spec.hpp"
#include "common/slurm/sbatch_script.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;

namespace {
std::string error_of(const std::string& yaml) {
  auto spec = job_spec_from_yaml(yaml, "job.yaml");
  REQUIRE_FALSE(spec.ok());
  return spec.error().to_string();
}
}  // namespace

TEST_CASE("every example job file is a valid job", "[spec]") {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(test::source_dir() + "/examples/jobs")) {
    INFO(entry.path());
    if (entry.path().extension() == ".sbatch") {
      // A batch script: what `sy submit` makes of it must be a valid job too.
      slurm::SbatchContext ctx;
      ctx.file = entry.path().filename();
      ctx.submit_dir = "/tmp";
      auto translated = slurm::job_from_sbatch(test::read_file(entry.path()), ctx);
      REQUIRE(translated.ok());
      CHECK(job_spec_from_document(Document::from_value(translated->job)).ok());
      ++count;
      continue;
    }
    auto doc = load_yaml_file(entry.path());
    REQUIRE(doc.ok());
    auto spec = job_spec_from_document(doc.value());
    CHECK(spec.ok());
    ++count;
  }
  CHECK(count >= 3);
}

TEST_CASE("a full spec maps every field", "[spec]") {
  auto spec = job_spec_from_yaml(R"(name: train
command: [python3, train.py, --lr, "0.1"]
resources: {nodes: 2, gpus_per_node: 8, cpus_per_gpu: 6, memory_per_gpu: 80GiB, gpu_model: H100,
            gpu_memory: 80G, features: [nvme, ib]}
launcher: env
datasets: [imagenet, coco]
time_limit: 1-12:00:00
priority: 250
account: vision
env: {NCCL_DEBUG: INFO, SEED: "7"}
workdir: /scratch/me
requeue: true
dependencies: {after_ok: [12, 13], after_any: [9]}
every: 4h
)",
                                 "job.yaml");
  REQUIRE(spec.ok());
  const JobSpec& s = spec.value();
  CHECK(s.name == "train");
  CHECK(s.command == std::vector<std::string>{"python3", "train.py", "--lr", "0.1"});
  CHECK(s.resources == Resources{2, 8, 6, 80 * 1024, "H100", 80 * 1024, {"ib", "nvme"}});
  CHECK(s.after_ok == std::vector<std::int64_t>{12, 13});
  CHECK(s.after_any == std::vector<std::int64_t>{9});
  CHECK(s.every_s == 4 * 3600);
  CHECK(s.launcher == Launcher::env);
  CHECK(s.datasets == std::vector<std::string>{"imagenet", "coco"});
  CHECK(s.time_limit_s == 36 * 3600);
  CHECK(s.priority == 250);
  CHECK(s.account == "vision");
  CHECK(s.env == std::map<std::string, std::string>{{"NCCL_DEBUG", "INFO"}, {"SEED", "7"}});
  CHECK(s.workdir == "/scratch/me");
  CHECK(s.requeue);
  CHECK(s.total_gpus() == 16);
}

TEST_CASE("defaults fill what a spec leaves out", "[spec]") {
  auto spec = job_spec_from_yaml("command: [/usr/bin/python3, x.py]\n", "job.yaml");
  REQUIRE(spec.ok());
  CHECK(spec->name == "python3");
  CHECK(spec->resources == Resources{1, 1, 1, std::nullopt, std::nullopt, std::nullopt, {}});
  CHECK_FALSE(spec->array);
  CHECK(spec->after_ok.empty());
  CHECK_FALSE(spec->every_s);
  CHECK(spec->launcher == Launcher::none);
  CHECK(spec->priority == JobSpec::kDefaultPriority);
  CHECK_FALSE(spec->time_limit_s.has_value());
  CHECK_FALSE(spec->requeue);
  auto script = job_spec_from_yaml("script: |\n  #!/bin/sh\n  echo hi\n", "job.yaml");
  REQUIRE(script.ok());
  CHECK(script->name == "script");
  CHECK(script->script == "#!/bin/sh\necho hi\n");
}

TEST_CASE("the canonical JSON form reads back to the same spec", "[spec]") {
  for (const char* yaml :
       {"command: [a]\n",
        "name: x\nscript: 'echo'\ntime_limit: 90\nresources: {memory_per_gpu: 1536}\n",
        "command: [b, c]\nresources: {nodes: 3, gpus_per_node: 4}\nlauncher: mpi\n"
        "time_limit: 3-04:05:06\nenv: {A: b}\ndatasets: [d1]\naccount: acc\n",
        "command: [g]\nresources: {gpu_model: A100-SXM4, gpu_memory: 40G}\n",
        "command: [h]\nresources: {features: [ib]}\narray: 0-9:3,20%2\n",
        "command: [i]\ndependencies: {after_any: [4]}\nevery: 90\n"}) {
    INFO(yaml);
    auto spec = job_spec_from_yaml(yaml, "job.yaml");
    REQUIRE(spec.ok());
    auto again = job_spec_from_json_text(job_spec_to_json(spec.value()).dump());
    REQUIRE(again.ok());
    CHECK(again.value() == spec.value());
  }
}

TEST_CASE("bad job files are refused with file, line:column, field and reason", "[spec]") {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"name: x\ncommand: [a]\nresources:\n    nodes: 1\n    gpus_per_node: 0\n",
       "job.yaml:5:5: resources.gpus_per_node: must be >= 1"},
      {"command: [a]\nresources:\n  gpus_per_node: 65\n",
       "job.yaml:3:3: resources.gpus_per_node: must be <= 64"},
      {"command: [a]\nresources:\n  gpus_per_node: \"8\"\n",
       "job.yaml:3:3: resources.gpus_per_node: must be an integer"},
      {"command: [a]\nresources:\n  gpus_per_node: 2.5\n",
       "job.yaml:3:3: resources.gpus_per_node: must be an integer"},
      {"command: [a]\nresources:\n  gpu_per_node: 2\n",
       "job.yaml:3:3: resources.gpu_per_node: unknown field"},
      {"command: [a]\nnodes: 2\n", "job.yaml:2:1: nodes: unknown field"},
      {"name: x\n", "job.yaml:1:1: command: is required (or give 'script')"},
      {"command: [a]\nscript: echo\n",
       "job.yaml:2:1: script: give either 'command' or 'script', not both"},
      {"command: []\n", "job.yaml:1:1: command: must not be empty"},
      {"command: python train.py\n", "job.yaml:1:1: command: must be a list"},
      {"command: [a, 7]\n", "job.yaml:1:14: command[1]: must be a string"},
      {"command: [a]\nlauncher: slurm\n", "job.yaml:2:1: launcher: must be one of: mpi, env, none"},
      {"command: [a]\ntime_limit: soon\n",
       "job.yaml:2:1: time_limit: must be a duration like 30m, 2h, 1h30m, 2:00:00 or 1-12:00:00 "
       "(a bare number is minutes)"},
      {"command: [a]\ntime_limit: 0\n", "job.yaml:2:1: time_limit: must be >= 1"},
      {"command: [a]\ntime_limit: 400d\n", "job.yaml:2:1: time_limit: must be at most 365 days"},
      {"command: [a]\nresources: {memory_per_gpu: lots}\n",
       "job.yaml:2:13: resources.memory_per_gpu: must be a size like 512M, 16G or 80GiB (a bare "
       "number is MiB)"},
      {"command: [a]\npriority: 5000\n", "job.yaml:2:1: priority: must be <= 1000"},
      {"command: [a]\nresources: {gpu_memory: huge}\n",
       "job.yaml:2:13: resources.gpu_memory: must be a size like 512M, 16G or 80GiB (a bare "
       "number is MiB)"},
      {"command: [a]\nresources: {gpu_model: \"\"}\n",
       "job.yaml:2:13: resources.gpu_model: must not be empty"},
      {"command: [a]\ndatasets: [imagenet, imagenet]\n",
       "job.yaml:2:1: datasets: must not repeat an item"},
      {"command: [a]\ndatasets: [../etc]\n",
       "job.yaml:2:12: datasets[0]: must be a dataset name: letters, digits, '.', '_' or '-'"},
      {"command: [a]\nenv: {1BAD: x}\n",
       "job.yaml:2:7: env.1BAD: must be a variable name: letters, digits and '_', not starting "
       "with a digit"},
      {"command: [a]\nenv: {SEED: 7}\n", "job.yaml:2:7: env.SEED: must be a string"},
      {"command: [a]\nworkdir: scratch/me\n", "job.yaml:2:1: workdir: must be an absolute path"},
      {"command: [a]\nrequeue: maybe\n", "job.yaml:2:1: requeue: must be true or false"},
      {"command: [a]\noutputs: [{path: ../../etc/passwd, to: /shared/x}]\n",
       "job.yaml:2:12: outputs[0].path: must stay inside the job's working directory (has a \"..\" "
       "component; paths may not leave the dataset)"},
      {"command: [a]\noutputs: [{path: /etc, to: /shared/x}]\n",
       "job.yaml:2:12: outputs[0].path: must stay inside the job's working directory (is "
       "absolute; it must be relative)"},
      {"command: [a]\noutputs: [{path: ckpt, to: /shared/../etc}]\n",
       "job.yaml:2:24: outputs[0].to: must not contain '.' or '..' components"},
      {"command: [a]\noutputs: [{path: ckpt, to: runs}]\n",
       "job.yaml:2:24: outputs[0].to: must be an absolute path below /"},
      {"command: [a]\noutputs: [{path: ckpt}]\n", "job.yaml:2:11: outputs[0].to: is required"},
      {"name: \"has space\"\ncommand: [a]\n",
       "job.yaml:1:1: name: must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
       "or digit"},
      {"command: [a]\ncommand: [b]\n", "job.yaml:2:1: command: duplicate key"},
      {"command: [a\n", "job.yaml:2:1: invalid YAML: end of sequence flow not found"},
      {"- a\n- b\n", "job.yaml:1:1: must be a mapping"},
      {"", "job.yaml:1:1: document is empty"},
      {"command: [a]\n---\ncommand: [b]\n",
       "job.yaml:1:1: expected one YAML document, found more than one"},
      // yaml-cpp's LoadAll never returned on these (fuzz_job_spec)
      {",", "job.yaml:1:1: expected one YAML document, found more than one"},
      {",\ncommand: [a]\n", "job.yaml:1:1: expected one YAML document, found more than one"},
      {"command: [a]\narray: 0-15%\n",
       "job.yaml:2:1: array: must be indices like 0-15, 1,3,5-7 or 0-30:2, optionally with %N for "
       "at most N at once"},
      {"command: [a]\narray: 9-3\n", "job.yaml:2:1: array: range 9-3 runs backwards"},
      {"command: [a]\narray: 0-20000\n", "job.yaml:2:1: array: has more than 10000 tasks"},
      {"command: [a]\narray: 0-3%0\n",
       "job.yaml:2:1: array: the limit after '%' must be at least 1"},
      {"command: [a]\narray: 0-9:0\n", "job.yaml:2:1: array: a step must be at least 1"},
      {"command: [a]\ndependencies: {after_ok: [0]}\n",
       "job.yaml:2:27: dependencies.after_ok[0]: must be >= 1"},
      {"command: [a]\ndependencies: {before: [3]}\n",
       "job.yaml:2:16: dependencies.before: unknown field"},
      {"command: [a]\nevery: 30s\n",
       "job.yaml:2:1: every: must be at least 1m (a bare integer is minutes)"},
      {"command: [a]\nevery: 1h\narray: 0-3\n",
       "job.yaml:2:1: every: a job array cannot also recur; give one or the other"},
      {"command: [a]\nresources: {features: [\"no space\"]}\n",
       "job.yaml:2:24: resources.features[0]: must be a feature name: letters, digits, '.', '_' or "
       "'-'"},
  };
  for (const Case& c : cases) {
    INFO(c.yaml);
    CHECK(error_of(c.yaml) == c.error);
  }
}

TEST_CASE("API bodies get the same checks without positions", "[spec]") {
  auto bad = job_spec_from_json_text(R"({"command":["a"],"resources":{"gpus_per_node":0}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().to_string() == "resources.gpus_per_node: must be >= 1");
  CHECK(bad.error().field == "resources.gpus_per_node");
  auto dup = job_spec_from_json_text(R"({"command":["a"],"command":["b"]})");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().to_string() == "command: duplicate key");
  auto broken = job_spec_from_json_text(R"({"command":)");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message.rfind("invalid JSON: parse error at line 1, column 12", 0) == 0);
}

TEST_CASE("a missing file is reported by name", "[spec]") {
  auto doc = load_yaml_file("/nonexistent/job.yaml");
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.error().to_string() == "/nonexistent/job.yaml: cannot read: No such file or directory");
}

TEST_CASE("a job file that is not UTF-8 is refused with its line and column", "[unit][spec]") {
  // Found by fuzz_job_spec: yaml-cpp passes such bytes through and JSON cannot carry them.
  auto spec = job_spec_from_yaml("name: ok\ncommand: [\"a\xD2\"]\n", "bad.yaml");
  REQUIRE_FALSE(spec);
  CHECK(spec.error().line == 2);
  CHECK(spec.error().column == 13);
  CHECK(spec.error().message.find("not UTF-8") != std::string::npos);
}

TEST_CASE("a job file with control characters or Latin-1 escapes is refused", "[unit][spec]") {
  // Found by fuzz_job_spec: yaml-cpp turned NULs, and turns \N and \_, into bytes JSON cannot
  // carry.
  using namespace std::string_literals;
  auto nul = job_spec_from_yaml("name: ok\nenv: {A: \"x\0y\"}\ncommand: [a]\n"s, "nul.yaml");
  REQUIRE_FALSE(nul);
  CHECK(nul.error().to_string() == "nul.yaml:2:12: control character 0x00 is not allowed in YAML");
  auto escape = job_spec_from_yaml("command: [\"a\\Nb\"]\n", "esc.yaml");
  REQUIRE_FALSE(escape);
  CHECK(escape.error().to_string() ==
        "esc.yaml:1:11: command[0]: decodes to text that is not UTF-8 (\\N or \\_?)");
  auto tab = job_spec_from_yaml("command: [\"a\tb\"]\r\n", "tab.yaml");
  CHECK(tab.ok());
}

TEST_CASE("a JSON job whose number overflows a double is refused", "[unit][spec]") {
  // Found by fuzz_job_spec: nlohmann's out_of_range escaped the parser.
  auto spec = job_spec_from_json_text(R"({"command":["a"],"priority":1e999})");
  REQUIRE_FALSE(spec);
  CHECK(spec.error().to_string() == "invalid JSON: number overflow parsing '1e999'");
}

TEST_CASE("a job file whose aliases expand without bound is refused", "[unit][spec]") {
  // Found by fuzz_job_spec (out of memory): each line doubles what the one before stands for.
  std::string yaml = "a0: &a0 [x, x]\n";
  for (int i = 1; i < 30; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + "]\n";
  }
  yaml += "command: [run]\n";
  auto spec = job_spec_from_yaml(yaml, "bomb.yaml");
  REQUIRE_FALSE(spec);
  CHECK(spec.error().message.find("expands to more than") != std::string::npos);
}
