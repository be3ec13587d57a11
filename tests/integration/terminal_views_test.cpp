// `sy top --once` and `sy queue --watch`: the live terminal views, one frame at a time.
#include <catch2/catch.hpp>

#include <regex>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/fake_agent.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;

namespace {}  // namespace

TEST_CASE("sy top shows each node's GPUs by job and the queue with reasons",
          "[integration][cli][top]") {
  ControllerFixture controller("nodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 5000}\n");
  controller.start();
  TempDir dir;
  const auto agent = start_fake_agent(controller, dir, "n1");
  const SyCli cli{controller.local_address(), {}, {}};
  REQUIRE(eventually([&] { return cli.nodes_up() == 1; }, std::chrono::seconds(20)));
  const std::string sleeper = cli.submit(dir.write(
      "sleep.yaml", "name: sleeper\ncommand: [sleep, '60']\nresources: {gpus_per_node: 3}\n"));
  const std::string waiter = cli.submit(
      dir.write("big.yaml", "name: big\ncommand: ['true']\nresources: {gpus_per_node: 8}\n"));
  REQUIRE(eventually([&] { return cli.show(sleeper).value("state", "") == "RUNNING"; },
                     std::chrono::seconds(20)));
  REQUIRE(eventually([&] { return !cli.show(waiter).value("reason", "").empty(); },
                     std::chrono::seconds(20)));

  auto top = cli.run({"top", "--once"});
  INFO(top.out << top.err);
  REQUIRE(top.exit_code == 0);
  CHECK(top.out.find("nodes 1 (1 up)   GPUs 3/8 allocated   jobs 1 running, 1 waiting") !=
        std::string::npos);
  CHECK(top.out.find("leaf -\n") != std::string::npos);
  // n1's row: three cells of the sleeper (on the GPUs its ring uses), five free.
  const auto at = top.out.find("  n1 ");
  REQUIRE(at != std::string::npos);
  const std::string row = top.out.substr(at, top.out.find('\n', at) - at);
  CHECK(count_of(row, "   " + sleeper) == 3);
  CHECK(count_of(row, "   \u00b7") == 5);
  CHECK(row.find(" UP ") != std::string::npos);
  CHECK(std::regex_search(top.out, std::regex(waiter + " +root +PENDING +8 +big +\\(")));
  CHECK(top.out.find("\033[") == std::string::npos);  // no colours when not on a terminal

  // Another user sees root's GPUs as taken ("+"), not free, and none of root's jobs.
  auto theirs = SyCli{controller.address(), {}, {}}.as("daemon").run({"top", "--once"});
  INFO(theirs.out << theirs.err);
  REQUIRE(theirs.exit_code == 0);
  CHECK(theirs.out.find("GPUs 3/8 allocated   jobs 0 running, 0 waiting") != std::string::npos);
  const auto their_at = theirs.out.find("  n1 ");
  REQUIRE(their_at != std::string::npos);
  const std::string their_row =
      theirs.out.substr(their_at, theirs.out.find('\n', their_at) - their_at);
  CHECK(count_of(their_row, "   +") == 3);
  CHECK(theirs.out.find("sleeper") == std::string::npos);

  auto watch = cli.run({"queue", "--watch", "--interval", "0.2", "--iterations", "2"});
  INFO(watch.out);
  CHECK(watch.exit_code == 0);
  CHECK(count_of(watch.out, "Every 0.2s: sy queue") == 2);
  CHECK(count_of(watch.out, "sleeper") == 2);
  CHECK(cli.run({"queue", "--watch", "--json"}).exit_code == 2);
  REQUIRE(cli.run({"cancel", sleeper, waiter}).exit_code == 0);
}
