#pragma once
// The sy CLI as a test drives it: one controller address, an optional prefix (setpriv to run as
// another user, ip netns exec), extra environment, and bounded waiting.

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/process.hpp"

namespace sy::test {

// Polls `done` every 100 ms until it holds or `limit` passes; says which.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

struct SyCli {
  std::string address;
  std::vector<std::string> prefix;
  std::map<std::string, std::string> env;

  // As `user` (setpriv; the test must run as root).
  SyCli as(const std::string& user) const {
    SyCli other = *this;
    other.prefix = {"/usr/bin/setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups"};
    return other;
  }
  RunResult run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = prefix;
    argv.push_back(cli_binary());
    argv.push_back("--controller");
    argv.push_back(address);
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> all{{"SY_CONFIG", ""}, {"SY_CONTROLLER", ""}};
    for (const auto& [k, v] : env)
      all[k] = v;
    return run_program(argv, all);
  }
  // Submits the job file and returns its id (the test stops if sy refuses it).
  std::string submit(const std::string& file) const {
    auto r = run({"submit", "--parsable", file});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, r.out.find_first_of("\n;"));
  }
  // The job as `sy show --json` prints it, or {} when it cannot be shown.
  nlohmann::json show(const std::string& id) const {
    auto r = run({"show", id, "--json"});
    if (r.exit_code != 0) return nlohmann::json::object();
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  // Waits (bounded) until the job has ended; the job as `show` gives it then.
  nlohmann::json ended(const std::string& id, int seconds) const {
    nlohmann::json job;
    eventually(
        [&] {
          job = show(id);
          const std::string s = job.value("state", "");
          return s == "COMPLETED" || s == "FAILED" || s == "CANCELLED";
        },
        std::chrono::seconds(seconds));
    return job;
  }
  int nodes_up() const {
    auto r = run({"nodes", "--json"});
    if (r.exit_code != 0) return 0;
    int up = 0;
    for (const auto& n : nlohmann::json::parse(r.out, nullptr, false))
      up += n.value("state", "") == "UP";
    return up;
  }
};

}  // namespace sy::test
