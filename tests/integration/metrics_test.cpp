// The controller's and an agent's /metrics, scraped as Prometheus would (plain GET, no user): the
// values move as jobs are submitted, run, are cancelled and complete, and as a dataset is staged
// and staged again (a cache hit).
#include <catch2/catch.hpp>

#include <memory>
#include <regex>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/fake_agent.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;

namespace {

struct Scrape {
  std::string text;
  // The sample's value; -1 when it is absent.
  double operator[](const std::string& sample) const {
    const auto at = text.find("\n" + sample + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + sample.size() + 2));
  }
};

Scrape scrape_url(const std::string& url) {
  auto r = run_program({"/usr/bin/curl", "-s", "-f", url});
  INFO(url << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return {"\n" + r.out};
}

Scrape scrape(const ControllerFixture& controller) {
  return scrape_url("http://" + controller.address() + "/metrics");
}

}  // namespace

TEST_CASE("/metrics counts jobs GPUs passes and staging as they change", "[integration][metrics]") {
  ControllerFixture controller("nodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 5000}\n");
  controller.start();
  TempDir dir;
  const auto agent = start_fake_agent(controller, dir, "n1", {"--metrics-listen", "127.0.0.1:0"});
  const SyCli cli{controller.local_address(), {}, {}};
  REQUIRE(eventually([&] { return cli.nodes_up() == 1; }, std::chrono::seconds(20)));
  // The agent's own /metrics, on the port it chose and logged.
  std::smatch port;
  const std::string agent_log = read_file(controller.dir().file("n1.log"));
  REQUIRE(std::regex_search(agent_log, port,
                            std::regex("metrics on (http://127.0.0.1:[0-9]+)/metrics")));
  const std::string agent_base = port[1].str(), agent_url = agent_base + "/metrics";
  Scrape a = scrape_url(agent_url);
  CHECK(a["sy_agent_registrations_total{node=\"n1\"}"] == 1);
  CHECK(a["sy_agent_jobs{node=\"n1\",state=\"running\"}"] == 0);
  CHECK(a["sy_agent_tier0_datasets{node=\"n1\"}"] == 0);

  Scrape s = scrape(controller);
  INFO(s.text);
  CHECK(s.text.find("# TYPE sy_jobs gauge\n") != std::string::npos);
  CHECK(s["sy_jobs_submitted_total"] == 0);
  CHECK(s["sy_node_gpus{node=\"n1\",leaf=\"none\"}"] == 8);
  CHECK(s["sy_node_gpus_allocated{node=\"n1\",leaf=\"none\"}"] == 0);
  CHECK(s["sy_node_up{node=\"n1\",state=\"UP\"}"] == 1);
  CHECK(s["sy_agent_heartbeat_age_seconds{node=\"n1\"}"] >= 0);
  CHECK(s["sy_agent_heartbeat_age_seconds{node=\"n1\"}"] < 5);
  const double passes_before = s["sy_scheduling_pass_seconds_count"];

  const std::string id = cli.submit(dir.write(
      "sleep.yaml", "command: [sleep, '30']\nresources: {gpus_per_node: 2}\ntime_limit: 5m\n"));
  REQUIRE(eventually([&] { return cli.show(id).value("state", "") == "RUNNING"; },
                     std::chrono::seconds(20)));
  s = scrape(controller);
  CHECK(s["sy_jobs_submitted_total"] == 1);
  CHECK(s["sy_jobs{state=\"RUNNING\"}"] == 1);
  CHECK(s["sy_jobs{state=\"PENDING\"}"] == 0);
  CHECK(s["sy_node_gpus_allocated{node=\"n1\",leaf=\"none\"}"] == 2);
  CHECK(s["sy_leaf_gpus_allocated{leaf=\"none\"}"] == 2);
  CHECK(s["sy_scheduling_pass_seconds_count"] > passes_before);
  CHECK(s["sy_scheduling_pass_seconds_bucket{le=\"+Inf\"}"] ==
        s["sy_scheduling_pass_seconds_count"]);
  CHECK(scrape_url(agent_url)["sy_agent_jobs{node=\"n1\",state=\"running\"}"] == 1);

  REQUIRE(cli.run({"cancel", id}).exit_code == 0);
  const std::string done = cli.submit(dir.write("true.yaml", "command: ['true']\n"));
  REQUIRE(eventually([&] { return cli.show(done).value("state", "") == "COMPLETED"; },
                     std::chrono::seconds(20)));
  REQUIRE(eventually([&] { return scrape(controller)["sy_jobs{state=\"RUNNING\"}"] == 0; },
                     std::chrono::seconds(20)));
  s = scrape(controller);
  CHECK(s["sy_jobs_submitted_total"] == 2);
  CHECK(s["sy_jobs_ended_total{state=\"CANCELLED\"}"] == 1);
  CHECK(s["sy_jobs_ended_total{state=\"COMPLETED\"}"] == 1);
  CHECK(s["sy_node_gpus_allocated{node=\"n1\",leaf=\"none\"}"] == 0);

  // Staging: copied once (its bytes counted), then only checked (a hit).
  dir.write("shared/ds/a.bin", std::string(300000, 'a'));
  dir.write("shared/ds/b.bin", std::string(12345, 'b'));
  REQUIRE(cli.run({"dataset", "add", "ds", "--source", dir.file("shared/ds")}).exit_code == 0);
  REQUIRE(cli.run({"stage", "ds", "--node", "n1"}).exit_code == 0);
  s = scrape(controller);
  CHECK(s["sy_staging_bytes_copied_total"] == 312345);
  CHECK(s["sy_staging_orders_total{result=\"copied\"}"] == 1);
  CHECK(s["sy_staging_orders_total{result=\"hit\"}"] == 0);
  REQUIRE(cli.run({"stage", "ds", "--node", "n1"}).exit_code == 0);
  s = scrape(controller);
  CHECK(s["sy_staging_bytes_copied_total"] == 312345);
  CHECK(s["sy_staging_orders_total{result=\"hit\"}"] == 1);
  a = scrape_url(agent_url);
  CHECK(a["sy_agent_staging_bytes_copied_total{node=\"n1\"}"] == 312345);
  CHECK(a["sy_agent_staging_orders_total{node=\"n1\",result=\"copied\"}"] == 1);
  CHECK(a["sy_agent_staging_orders_total{node=\"n1\",result=\"hit\"}"] == 1);
  CHECK(a["sy_agent_tier0_datasets{node=\"n1\"}"] == 1);
  CHECK(a["sy_agent_tier0_bytes{node=\"n1\"}"] >= 312345);
  CHECK(run_program({"/usr/bin/curl", "-s", "-f", agent_base + "/x"}).exit_code != 0);

  // Only GET, and nothing else is open without a user.
  CHECK(run_program({"/usr/bin/curl", "-s", "-f", "-X", "POST",
                     "http://" + controller.address() + "/metrics"})
            .exit_code != 0);
}
