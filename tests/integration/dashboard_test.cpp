// The web dashboard against a live fake cluster (three agents under two leaf switches): its API
// (sessions, /v1/cluster, the log's tail) with curl, then the page itself in headless Chromium
// driven through chromedriver: the GPU grid by leaf, a GPU's hover card, the queue's reasons, a
// job submitted while the page is open appearing without a reload (the /v1/events WebSocket),
// and a job page with its placement explained, its staging and its log. Screenshots of both
// views are saved under the build's test-output/ directory. Then the same over TLS, as clusters
// run it. The browser parts skip, saying why, where chromium or chromedriver is missing.
#include <catch2/catch.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>

#include "tests/support/cluster_ca.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/fake_agent.hpp"
#include "tests/support/process.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/web_driver.hpp"

using namespace sy;
using namespace sy::test;

namespace {

struct Http {
  int status = 0;
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// curl, as a browser or scraper would ask: `headers` like "Authorization: Bearer T".
Http curl(const std::string& method, const std::string& url,
          const std::vector<std::string>& headers = {}) {
  std::vector<std::string> argv{"/usr/bin/curl", "-s", "-X", method, "-w", "\n%{http_code}", url};
  for (const auto& h : headers) {
    argv.push_back("-H");
    argv.push_back(h);
  }
  auto r = run_program(argv);
  REQUIRE(r.exit_code == 0);
  const auto nl = r.out.rfind('\n');
  return {std::stoi(r.out.substr(nl + 1)), r.out.substr(0, nl)};
}

std::string output_dir() {
  const std::string dir = SY_TEST_OUTPUT_DIR;
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("the web dashboard shows the cluster queue and a job live in a browser",
          "[integration][dashboard]") {
  ControllerFixture controller("cluster_network: " + source_dir() +
                               "/examples/topologies/cluster-2spine-4leaf.yaml\n"
                               "nodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 5000}\n");
  controller.start();
  TempDir dir;
  std::vector<std::unique_ptr<ChildProcess>> agents;
  for (const char* node : {"node01", "node02", "node05"})
    agents.push_back(start_fake_agent(controller, dir, node));
  const SyCli cli{controller.local_address(), {}, {}};
  REQUIRE(eventually([&] { return cli.nodes_up() == 3; }, std::chrono::seconds(20)));

  dir.write("shared/ds/a.bin", std::string(200000, 'a'));
  REQUIRE(cli.run({"dataset", "add", "ds", "--source", dir.file("shared/ds")}).exit_code == 0);
  const std::string train = cli.submit(dir.write(
      "train.yaml",
      "name: train-resnet\n"
      "command: [sh, -c, 'for i in 1 2 3 4 5; do echo step $i loss 0.$i; done; sleep 120']\n"
      "resources: {nodes: 2, gpus_per_node: 4}\ndatasets: [ds]\ntime_limit: 10m\n"));
  const std::string after =
      cli.submit(dir.write("after.yaml",
                           "name: evaluate\ncommand: ['true']\nresources: {gpus_per_node: 2}\n"
                           "dependencies: {after_ok: [" +
                               train + "]}\n"));
  REQUIRE(eventually([&] { return cli.show(train).value("state", "") == "RUNNING"; },
                     std::chrono::seconds(30)));
  const nlohmann::json placement = cli.show(train)["placement"];
  const std::string ring_link = placement.value("ring_link", "");
  REQUIRE(!ring_link.empty());

  // A session for the user running sy (root, through the local socket).
  auto opened = cli.run({"dashboard", "--json"});
  INFO(opened.err);
  REQUIRE(opened.exit_code == 0);
  const auto session = nlohmann::json::parse(opened.out);
  const std::string token = session.at("token"), base = "http://" + controller.address();
  CHECK(session.at("user") == "root");
  CHECK(session.at("url") == base + "/ui/#/?token=" + token);
  const std::string bearer = "Authorization: Bearer " + token;

  SECTION("the API behind the page: sessions read only what their user may") {
    const Http page = curl("GET", base + "/ui/");
    CHECK(page.status == 200);
    CHECK(page.body.find("<script src=\"app.js\"></script>") != std::string::npos);
    CHECK(curl("GET", base + "/ui/app.js").status == 200);
    CHECK(curl("GET", base + "/ui/nothing.js").status == 404);
    CHECK(curl("GET", base + "/").status == 302);

    CHECK(curl("GET", base + "/v1/cluster").status == 401);
    CHECK(curl("GET", base + "/v1/cluster", {"Authorization: Bearer 0123"}).status == 401);
    CHECK(curl("POST", base + "/v1/sessions", {bearer}).status == 403);  // sessions only read
    CHECK(curl("DELETE", base + "/v1/jobs/" + train, {bearer}).status == 403);
    const Http cluster = curl("GET", base + "/v1/cluster", {bearer});
    REQUIRE(cluster.status == 200);
    const auto view = cluster.json();
    CHECK(view["totals"]["gpus"] == 24);
    CHECK(view["totals"]["allocated"] == 8);
    REQUIRE(view["leaves"].size() == 2);
    CHECK(view["leaves"][0]["leaf"] == "leaf1");
    CHECK(view["leaves"][0]["nodes"].size() == 2);
    CHECK(view["leaves"][1]["leaf"] == "leaf2");
    int held = 0;
    for (const auto& leaf : view["leaves"]) {
      for (const auto& node : leaf["nodes"]) {
        for (const auto& gpu : node["gpus"]) {
          if (gpu["job"].is_null()) continue;
          ++held;
          CHECK(gpu["job"]["id"] == train);
          CHECK(gpu["job"]["user"] == "root");
          CHECK(gpu["job"]["ring_link"] == ring_link);
        }
      }
    }
    CHECK(held == 8);
    REQUIRE(view["queue"].size() == 2);
    CHECK(view["queue"][0]["id"] == train);
    CHECK(view["queue"][1]["id"] == after);
    CHECK(view["queue"][1]["reason"].get<std::string>().find("waiting for job " + train) !=
          std::string::npos);

    // Another user's session sees the GPUs taken, not whose they are, and none of root's jobs.
    // (Over TCP: the test's state directory is closed to other users, its socket with it.)
    auto theirs = SyCli{controller.address(), {}, {}}.as("daemon").run({"dashboard", "--json"});
    INFO(theirs.err);
    REQUIRE(theirs.exit_code == 0);
    const std::string other = nlohmann::json::parse(theirs.out).at("token");
    const auto seen = curl("GET", base + "/v1/cluster", {"Authorization: Bearer " + other}).json();
    CHECK(seen["queue"].empty());
    CHECK(seen["totals"]["allocated"] == 8);
    const auto cell = seen["leaves"][0]["nodes"][0]["gpus"][0]["job"];
    CHECK(cell["other"] == true);
    CHECK_FALSE(cell.contains("user"));
    CHECK(curl("GET", base + "/v1/jobs/" + train, {"Authorization: Bearer " + other}).status ==
          403);

    // The log's last lines, from a line's start, then following on from `next`.
    REQUIRE(eventually(
        [&] {
          return curl("GET", base + "/v1/jobs/" + train + "/logs", {bearer})
                     .json()
                     .value("text", "")
                     .find("step 5") != std::string::npos;
        },
        std::chrono::seconds(20)));
    const auto tail = curl("GET", base + "/v1/jobs/" + train + "/logs?tail=40", {bearer}).json();
    const std::string text = tail.value("text", "");
    INFO(text);
    CHECK(text.size() <= 40);
    CHECK(std::regex_search(text, std::regex("^[0-9]+: step [1-5] loss 0\\.[1-5]\n")));
    CHECK(text.back() == '\n');
    CHECK(tail["offset"].get<int>() > 0);
    CHECK(curl("GET", base + "/v1/jobs/" + train + "/logs?tail=0", {bearer}).status == 400);
  }

  SECTION("in a browser: grid hover queue live updates and a job page") {
    if (const auto why = WebDriver::why_not(); !why.empty()) {
      SY_SKIP_FOR_PACKAGE(why, "chromium chromium-driver");
    }
    WebDriver browser(controller.dir().file("chromedriver.log"));
    browser.open(session.at("url"));
    // The grid: 24 GPU cells by leaf, the job's 8 in its colour on two nodes under leaf1.
    REQUIRE(
        eventually([&] { return browser.count("#grid .gpu") == 24; }, std::chrono::seconds(20)));
    CHECK(browser.count("[data-leaf=\"leaf1\"] [data-node=\"node01\"] .gpu") == 8);
    CHECK(browser.count("[data-leaf=\"leaf1\"] [data-node=\"node02\"] .gpu") == 8);
    CHECK(browser.count("[data-leaf=\"leaf2\"] [data-node=\"node05\"] .gpu") == 8);
    CHECK(browser.count("#grid .gpu[data-job=\"" + train + "\"]") == 8);
    CHECK(browser.count("#grid .gpu.free") == 16);
    CHECK(browser.text("#summary").find("8 of 24 GPUs in use") != std::string::npos);
    REQUIRE(eventually([&] { return browser.text("#live") == "live"; }, std::chrono::seconds(20)));

    // Hovering a GPU names its job, user and the ring's link class.
    const std::string first_gpu = browser.run(
        "return document.querySelector('#grid .gpu[data-job=\"" + train + "\"]').dataset.gpu;");
    browser.hover("[data-gpu=\"" + first_gpu + "\"]");
    REQUIRE(eventually(
        [&] { return browser.run("return !document.getElementById('tip').hidden;").get<bool>(); },
        std::chrono::seconds(5)));
    const std::string card = browser.text("#tip");
    INFO(card);
    CHECK(card.find("job " + train + " · train-resnet") != std::string::npos);
    CHECK(card.find("user root") != std::string::npos);
    CHECK(card.find("ring " + ring_link) != std::string::npos);

    // The queue, with the waiting job's reason.
    CHECK(browser.count("#queue tr[data-job=\"" + train + "\"][data-state=\"RUNNING\"]") == 1);
    CHECK(browser.text("#queue tr[data-job=\"" + after + "\"]").find("waiting for job " + train) !=
          std::string::npos);
    browser.screenshot(output_dir() + "/dashboard-cluster.png");
    std::cout << "screenshot: " << output_dir() << "/dashboard-cluster.png\n";

    // Live: a job submitted now shows up in the open page, in the queue and on its GPUs.
    const int updates_before =
        std::stoi(browser.run("return document.body.dataset.updates || '0';").get<std::string>());
    const std::string more = cli.submit(dir.write(
        "more.yaml", "name: sweep\ncommand: [sleep, '60']\nresources: {gpus_per_node: 2}\n"));
    REQUIRE(eventually([&] { return browser.count("#queue tr[data-job=\"" + more + "\"]") == 1; },
                       std::chrono::seconds(20)));
    REQUIRE(eventually([&] { return browser.count("#grid .gpu[data-job=\"" + more + "\"]") == 2; },
                       std::chrono::seconds(20)));
    CHECK(std::stoi(browser.run("return document.body.dataset.updates;").get<std::string>()) >
          updates_before);

    // The job page: placement explained, staging done, the log's lines.
    browser.run("location.hash = '#/jobs/" + train + "'; return true;");
    REQUIRE(eventually(
        [&] { return browser.text("#log").find("step 5 loss 0.5") != std::string::npos; },
        std::chrono::seconds(20)));
    const std::string explained = browser.text("#placement");
    INFO(explained);
    CHECK(explained.find("8 GPUs on 2 nodes") != std::string::npos);
    CHECK(explained.find("ring " + ring_link) != std::string::npos);
    CHECK(explained.find("one leaf switch (leaf1)") != std::string::npos);
    CHECK(browser.count("#placement .scores tr") >= 1);
    CHECK(browser.text("#staging").find("ds@") != std::string::npos);
    CHECK(browser.count("#staging tbody tr") == 2);  // one order per node
    CHECK(browser.text("#staging").find("done") != std::string::npos);
    browser.screenshot(output_dir() + "/dashboard-job.png");
    std::cout << "screenshot: " << output_dir() << "/dashboard-job.png\n";
    CHECK(std::filesystem::file_size(output_dir() + "/dashboard-job.png") > 10000);
  }
}

TEST_CASE("over TLS the dashboard's page and live updates reach a browser",
          "[integration][dashboard][tls]") {
  TempDir dir;
  make_cluster_ca(dir.file("ca"), {"node01"});
  ControllerFixture controller(tls_config(dir.file("ca")), {});
  controller.start();
  const std::string https = "https://127.0.0.1:" + std::to_string(controller.endpoint().port);
  const SyCli cli{controller.local_address(), {}, {}};
  auto opened = cli.run({"dashboard", "--json"});
  INFO(opened.err);
  REQUIRE(opened.exit_code == 0);
  const auto session = nlohmann::json::parse(opened.out);
  CHECK(session.at("url") == https + "/ui/#/?token=" + session.value("token", ""));

  // A browser opens a second connection for the page's WebSocket and resumes the first's TLS
  // session: the controller must accept the resumption although it asks clients for
  // certificates (OpenSSL refuses it without a session id context).
  auto resumed = run_program({"/usr/bin/openssl", "s_client", "-connect",
                              "127.0.0.1:" + std::to_string(controller.endpoint().port), "-tls1_2",
                              "-reconnect", "-CAfile", dir.file("ca") + "/ca.crt"});
  INFO(resumed.out << resumed.err);
  CHECK(count_of(resumed.out, "Reused, TLSv1.2") >= 5);
  CHECK(controller.log().find("session id context uninitialized") == std::string::npos);

  if (const auto why = WebDriver::why_not(); !why.empty()) {
    SY_SKIP_FOR_PACKAGE(why, "chromium chromium-driver");
  }
  WebDriver browser(controller.dir().file("chromedriver.log"), /*accept_any_certificate=*/true);
  browser.open(session.at("url"));
  REQUIRE(eventually([&] { return browser.text("#live") == "live"; }, std::chrono::seconds(20)));
  CHECK(browser.text("#summary") == "0 of 0 GPUs in use on 0 nodes");
  CHECK(browser.text("#queue") == "No jobs queued or running.");
}
