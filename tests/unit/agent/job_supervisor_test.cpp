// The agent's JobSupervisor with real processes: what a job sees (GPUs, its datasets' pinned
// Tier-0 copies, its variables), exit codes, refusals, stops that reach the whole process group
// (and KILL after the grace period), repeated launches, and ends kept until acknowledged.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "agent/job_supervisor.hpp"
#include "agent/stage_out.hpp"
#include "common/dataset/dataset_name.hpp"
#include "plugins/staging/file_backend.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace sy;
using sy::test::read_file;
using namespace std::chrono_literals;

namespace {

// The supervisor's reports, in order, with a bounded wait for the next one.
class Reports {
 public:
  void add(const nlohmann::json& m) {
    const std::scoped_lock lock(mutex_);
    all_.push_back(protocol::read_job_report(m).value());
    changed_.notify_all();
  }
  // The first report of `job` in `state` (waits up to 10 s; state "" when none came).
  protocol::JobReport wait_for(std::int64_t job, const std::string& state) {
    std::unique_lock lock(mutex_);
    protocol::JobReport found;
    changed_.wait_for(lock, 10s, [&] {
      for (const auto& r : all_) {
        if (r.job == job && r.state == state) {
          found = r;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<protocol::JobReport> all_;
};

// A supervisor over an empty Tier-0 cache in a scratch directory, its reports collected.
struct Supervised {
  explicit Supervised(std::chrono::milliseconds grace)
      : cache(dir.file("tier0"), 1 << 20),
        jobs(
            cache, dir.file("spool"), [this](const nlohmann::json& m) { reports.add(m); }, grace) {
    REQUIRE(cache.load().ok());
  }
  test::TempDir dir;
  staging::Tier0Cache cache;
  Reports reports;
  agent::JobSupervisor jobs;
};

protocol::LaunchOrder order_for(std::int64_t job, std::vector<std::string> command) {
  protocol::LaunchOrder o;
  o.job = job;
  o.command = std::move(command);
  o.gpus = {1, 3};
  return o;
}

// Whether any process of the group still runs (a zombie waiting for init does not count).
bool group_alive(pid_t pgid) {
  for (const auto& p : fs::directory_iterator("/proc")) {
    std::ifstream in(p.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after its ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    char state = 0;
    pid_t ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z') return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a job sees its GPUs and its datasets' verified copies, pinned while it runs") {
  test::TempDir dir;
  dir.write("src/train/a.bin", std::string(1000, 'a'));
  const staging::FileBackend source(dir.file("src"));
  auto manifest = source.scan("imagenet-1k", true, 2);
  REQUIRE(manifest.ok());
  staging::Tier0Cache cache(dir.file("tier0"), 1 << 20);
  REQUIRE(cache.load().ok());
  REQUIRE(cache.stage(manifest.value(), source, 2, {}, nullptr).ok());
  const std::string version = manifest->version();

  Reports reports;
  agent::JobSupervisor jobs(
      cache, dir.file("spool"), [&](const nlohmann::json& m) { reports.add(m); }, 2s);
  auto order = order_for(7, {"bash", "-c",
                             "env > vars; cat \"$SY_DATASETS_DIR/imagenet-1k/train/a.bin\" > copy; "
                             "read -t 30 line < " +
                                 dir.file("go") + " || true"});
  order.env["LR"] = "0.1";
  order.datasets = {{.name = "imagenet-1k", .version = version, .bytes = 0}};
  ::mkfifo(dir.file("go").c_str(), 0600);
  jobs.launch(order);
  REQUIRE(reports.wait_for(7, "running").job == 7);
  // Pinned while it runs.
  const auto pinned = [&] {
    for (const auto& c : cache.list()) {
      if (c.name == "imagenet-1k") return c.pinned;
    }
    return false;
  };
  CHECK(pinned());
  std::ofstream(dir.file("go")) << "go\n";  // let it end
  const auto ended = reports.wait_for(7, "ended");
  REQUIRE(ended.state == "ended");
  CHECK(ended.exit_code == 0);
  CHECK(ended.signal == 0);
  CHECK_FALSE(pinned());

  const std::string vars = read_file(dir.file("spool/7/vars"));
  CHECK(vars.find("CUDA_VISIBLE_DEVICES=1,3\n") != std::string::npos);
  CHECK(vars.find("SY_JOB_ID=7\n") != std::string::npos);
  CHECK(vars.find("LR=0.1\n") != std::string::npos);
  CHECK(vars.find("SY_DATASET_IMAGENET_1K=" + cache.path_of("imagenet-1k", version).string() +
                  "\n") != std::string::npos);
  CHECK(vars.find("SY_DATASETS_DIR=" + dir.file("spool/7/datasets") + "\n") != std::string::npos);
  CHECK(read_file(dir.file("spool/7/copy")) == std::string(1000, 'a'));
  CHECK(dataset::dataset_variable("a.b-c_d9") == "SY_DATASET_A_B_C_D9");

  // The end stays reported until the controller acknowledges it.
  REQUIRE(jobs.reports().size() == 1);
  CHECK(jobs.reports()[0].state == "ended");
  jobs.acknowledge(7);
  CHECK(jobs.reports().empty());
}

TEST_CASE("jobs that cannot start are refused with the reason, and exit codes are reported") {
  Supervised s(2s);
  auto& [dir, cache, reports, jobs] = s;

  jobs.launch(order_for(1, {"no-such-program-anywhere"}));
  CHECK(reports.wait_for(1, "refused").message ==
        "cannot run 'no-such-program-anywhere': No such file or directory");

  auto missing = order_for(2, {"true"});
  missing.datasets = {{.name = "gone", .version = "0123456789abcdef", .bytes = 0}};
  jobs.launch(missing);
  CHECK(reports.wait_for(2, "refused").message.find("dataset gone@0123456789abcdef is not in") ==
        0);

  auto elsewhere = order_for(3, {"true"});
  elsewhere.workdir = dir.file("no/such/dir");
  jobs.launch(elsewhere);
  CHECK(reports.wait_for(3, "refused").message.find("cannot change to workdir") == 0);

  jobs.launch(order_for(4, {"bash", "-c", "exit 3"}));
  CHECK(reports.wait_for(4, "ended").exit_code == 3);

  protocol::LaunchOrder script;
  script.job = 5;
  script.script = "#!/bin/sh\necho from the script > out\n";
  jobs.launch(script);
  REQUIRE(reports.wait_for(5, "ended").exit_code == 0);
  CHECK(read_file(dir.file("spool/5/out")) == "from the script\n");
}

TEST_CASE("stopping a job ends its whole process group, with KILL after the grace period") {
  Supervised s(300ms);
  auto& [dir, cache, reports, jobs] = s;

  // A background child in the job's group goes too.
  jobs.launch(order_for(1, {"bash", "-c", "echo $$ > pid; sleep 60 & wait"}));
  REQUIRE(reports.wait_for(1, "running").job == 1);
  pid_t pgid = 0;
  for (int i = 0; i < 200 && pgid == 0; ++i) {
    std::ifstream(dir.file("spool/1/pid")) >> pgid;
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(pgid > 0);
  // A repeated launch (after a reconnect) starts nothing twice: it reports the job again.
  jobs.launch(order_for(1, {"bash", "-c", "exit 9"}));
  jobs.stop(1, "the job was cancelled");
  const auto stopped = reports.wait_for(1, "ended");
  CHECK(stopped.signal == SIGTERM);
  CHECK(stopped.message == "the job was cancelled");
  for (int i = 0; i < 100 && group_alive(pgid); ++i)
    std::this_thread::sleep_for(10ms);
  CHECK_FALSE(group_alive(pgid));

  // A job that ignores SIGTERM is killed once the grace period is over.
  jobs.launch(order_for(2, {"bash", "-c",
                            "trap '' TERM; echo ready > ready; sleep 60 & wait; "
                            "sleep 60"}));
  REQUIRE(reports.wait_for(2, "running").job == 2);
  for (int i = 0; i < 200 && !fs::exists(dir.file("spool/2/ready")); ++i)
    std::this_thread::sleep_for(10ms);
  const auto asked = std::chrono::steady_clock::now();
  jobs.stop(2, "time limit");
  const auto killed = reports.wait_for(2, "ended");
  CHECK(killed.signal == SIGKILL);
  CHECK(std::chrono::steady_clock::now() - asked >= 300ms);
}

TEST_CASE("stage-out copies outputs verified, retries a failed copy, refuses what escapes") {
  test::TempDir dir;
  dir.write("work/ckpt/step1/model.bin", std::string(5000, 'w'));
  dir.write("work/ckpt/log.txt", "loss 0.1\n");
  std::vector<std::string> progress;
  const auto note = [&](const std::string& what) { progress.push_back(what); };
  const agent::StageOutOptions quick{.attempts = 3, .first_pause = 10ms, .parallel = 2};

  CHECK(agent::stage_out(dir.file("work"), {{.path = "ckpt", .to = dir.file("shared/run1")}}, quick,
                         note) == "");
  CHECK(read_file(dir.file("shared/run1/step1/model.bin")) == std::string(5000, 'w'));
  CHECK(read_file(dir.file("shared/run1/log.txt")) == "loss 0.1\n");
  CHECK(progress == std::vector<std::string>{"copying ckpt to " + dir.file("shared/run1") +
                                             " (attempt 1 of 3)"});

  // A destination that cannot be made (a file where a directory must go) is tried 3 times.
  dir.write("shared/taken", "a file");
  progress.clear();
  const std::string failed = agent::stage_out(
      dir.file("work"), {{.path = "ckpt", .to = dir.file("shared/taken/run")}}, quick, note);
  CHECK(failed.find("ckpt -> " + dir.file("shared/taken/run") + ": io: ") == 0);
  CHECK(failed.find("(after 3 attempts)") != std::string::npos);
  CHECK(progress.size() == 3);

  // An output that is a symlink out of the working directory is refused at once.
  fs::create_directory_symlink("/etc", dir.file("work/escape"));
  progress.clear();
  const std::string refused = agent::stage_out(
      dir.file("work"), {{.path = "escape", .to = dir.file("shared/etc")}}, quick, note);
  CHECK(refused.find("escape -> " + dir.file("shared/etc") + ": refused: ") == 0);
  CHECK(progress.size() == 1);
  CHECK_FALSE(fs::exists(dir.file("shared/etc")));
}
