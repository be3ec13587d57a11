// The real sy binary driving the real sy-controller binary over loopback.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/process.hpp"

using namespace sy;
using namespace sy::test;

namespace {

RunResult sy_cli(const ControllerFixture& c, std::vector<std::string> args) {
  args.insert(args.begin(), {cli_binary(), "--controller", c.address()});
  // A config file in the environment must not redirect the test.
  return run_program(args, {{"SY_CONFIG", ""}, {"SY_CONTROLLER", ""}});
}

std::string example(const std::string& name) {
  return source_dir() + "/examples/jobs/" + name;
}

}  // namespace

TEST_CASE("submit, queue, show and cancel through the real binaries", "[integration][cli]") {
  ControllerFixture controller;
  controller.start();

  auto submitted = sy_cli(controller, {"submit", example("hello.yaml")});
  INFO(submitted.err);
  REQUIRE(submitted.exit_code == 0);
  CHECK(submitted.out == "Submitted job 1\n");
  auto parsable = sy_cli(controller, {"submit", "--parsable", example("ddp-resnet50.yaml")});
  REQUIRE(parsable.exit_code == 0);
  CHECK(parsable.out == "2\n");

  auto queue = sy_cli(controller, {"queue", "--json"});
  REQUIRE(queue.exit_code == 0);
  auto jobs = nlohmann::json::parse(queue.out);
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0]["name"] == "hello");
  CHECK(jobs[0]["state"] == "PENDING");
  CHECK(jobs[1]["name"] == "resnet50-ddp");
  CHECK(jobs[1]["gpus"] == 16);
  CHECK(jobs[1]["spec"]["datasets"] == nlohmann::json::array({"imagenet-1k"}));

  auto table = sy_cli(controller, {"queue"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.rfind("JOBID  NAME          USER", 0) == 0);
  CHECK(table.out.find("resnet50-ddp") != std::string::npos);

  auto show = sy_cli(controller, {"show", "2"});
  REQUIRE(show.exit_code == 0);
  CHECK(show.out.find("JobId=2 Name=resnet50-ddp") != std::string::npos);
  CHECK(show.out.find("Nodes=2 GpusPerNode=8 CpusPerGpu=8 MemPerGpu=64G TimeLimit=2-00:00:00") !=
        std::string::npos);

  auto cancel = sy_cli(controller, {"cancel", "1"});
  REQUIRE(cancel.exit_code == 0);
  CHECK(cancel.out == "Cancelled job 1\n");
  auto again = sy_cli(controller, {"cancel", "1"});
  CHECK(again.exit_code == 1);
  CHECK(again.err == "sy: job 1: cannot cancel a job that is CANCELLED\n");

  auto active = nlohmann::json::parse(sy_cli(controller, {"queue", "--json"}).out);
  REQUIRE(active.size() == 1);
  CHECK(active[0]["id"] == 2);
  auto all = nlohmann::json::parse(sy_cli(controller, {"queue", "--all", "--json"}).out);
  CHECK(all.size() == 2);
  auto shown = nlohmann::json::parse(sy_cli(controller, {"show", "1", "--json"}).out);
  CHECK(shown["state"] == "CANCELLED");
  CHECK(shown["events"].size() == 2);

  CHECK(controller.stop() == 0);
}

TEST_CASE("the CLI reports errors clearly and exits non-zero", "[integration][cli]") {
  ControllerFixture controller;
  controller.start();
  TempDir dir;

  auto missing = sy_cli(controller, {"show", "99"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "sy: job 99 not found\n");

  const std::string bad = dir.write("bad.yaml", "command: [a]\nresources:\n  gpus_per_node: 0\n");
  auto refused = sy_cli(controller, {"submit", bad});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err == "sy: " + bad + ":3:3: resources.gpus_per_node: must be >= 1\n");
  // Nothing was stored for the refused job.
  CHECK(nlohmann::json::parse(sy_cli(controller, {"queue", "--all", "--json"}).out).empty());

  auto usage = sy_cli(controller, {"show", "abc"});
  CHECK(usage.exit_code == 2);
  auto unknown = sy_cli(controller, {"frobnicate"});
  CHECK(unknown.exit_code == 2);

  controller.stop();
  auto unreachable = sy_cli(controller, {"queue"});
  CHECK(unreachable.exit_code == 1);
  CHECK(unreachable.err.rfind("sy: cannot reach the controller: cannot connect to " +
                                  controller.address() + ": Connection refused",
                              0) == 0);
}

TEST_CASE("the API validates every input", "[integration][api]") {
  ControllerFixture controller;
  controller.start();
  HttpClient http(controller.endpoint(), std::chrono::seconds(10));
  const HttpHeaders user = {{"X-Sy-User", "alice"}, {"Content-Type", "application/json"}};

  auto no_user = http.request("POST", "/v1/jobs", R"({"command":["a"]})");
  REQUIRE(no_user.ok());
  CHECK(no_user->status == 401);
  CHECK(nlohmann::json::parse(no_user->body)["error"]["code"] == "unauthenticated");

  auto too_big = http.request("POST", "/v1/jobs", std::string(2 << 20, 'x'), user);
  REQUIRE(too_big.ok());
  CHECK(too_big->status == 413);

  HttpClient fresh(controller.endpoint(), std::chrono::seconds(10));
  auto not_json = fresh.request("POST", "/v1/jobs", "command: [a]", user);
  REQUIRE(not_json.ok());
  CHECK(not_json->status == 400);
  CHECK(nlohmann::json::parse(not_json->body)["error"]["code"] == "invalid_spec");

  auto bad_field = fresh.request("POST", "/v1/jobs", R"({"command":["a"],"launcher":"ssh"})", user);
  REQUIRE(bad_field.ok());
  CHECK(bad_field->status == 400);
  auto err = nlohmann::json::parse(bad_field->body)["error"];
  CHECK(err["field"] == "launcher");
  CHECK(err["message"] == "launcher: must be one of: mpi, env, none");

  CHECK(fresh.request("GET", "/v1/jobs/abc", "", user)->status == 400);
  CHECK(fresh.request("GET", "/v1/jobs?limit=0", "", user)->status == 400);
  CHECK(fresh.request("GET", "/v1/jobs?state=DONE", "", user)->status == 400);
  CHECK(fresh.request("PUT", "/v1/jobs", "", user)->status == 405);
  CHECK(fresh.request("GET", "/v2/anything", "", user)->status == 404);

  const HttpHeaders keyed = {{"X-Sy-User", "alice"},
                             {"Content-Type", "application/json"},
                             {"Idempotency-Key", "retry-key-0001"}};
  auto first = fresh.request("POST", "/v1/jobs", R"({"command":["a"]})", keyed);
  auto retry = fresh.request("POST", "/v1/jobs", R"({"command":["a"]})", keyed);
  REQUIRE(first.ok());
  REQUIRE(retry.ok());
  CHECK(first->status == 201);
  CHECK(retry->status == 200);
  CHECK(nlohmann::json::parse(first->body)["id"] == nlohmann::json::parse(retry->body)["id"]);
  controller.stop();
}

TEST_CASE("datasets are registered, versioned and validated", "[integration][datasets]") {
  ControllerFixture controller;
  controller.start();
  TempDir data;
  data.write("set/a.txt", "first");
  data.write("set/sub/b.bin", std::string(5000, 'b'));
  const std::string source = data.path() + "/set";

  auto added = sy_cli(controller, {"dataset", "add", "mnist", "--source", source, "--json"});
  INFO(added.err);
  REQUIRE(added.exit_code == 0);
  const auto first = nlohmann::json::parse(added.out);
  CHECK(first["new_version"] == true);
  CHECK(first["files"] == 2);
  CHECK(first["bytes"] == 5005);
  const std::string v1 = first["version"];

  // The same content again is the same version; a change makes a new one.
  auto again = sy_cli(controller, {"dataset", "add", "mnist", "--source", source});
  REQUIRE(again.exit_code == 0);
  CHECK(again.out == "dataset mnist: unchanged, version " + v1 + " (2 files, 4.9 KiB)\n");
  data.write("set/a.txt", "second");
  auto changed = sy_cli(controller, {"dataset", "add", "mnist", "--source", source, "--json"});
  REQUIRE(changed.exit_code == 0);
  const std::string v2 = nlohmann::json::parse(changed.out)["version"];
  CHECK(v2 != v1);

  auto shown = sy_cli(controller, {"dataset", "show", "mnist", "--json"});
  REQUIRE(shown.exit_code == 0);
  const auto show = nlohmann::json::parse(shown.out);
  CHECK(show["version"] == v2);
  REQUIRE(show["versions"].size() == 2);
  auto listed = sy_cli(controller, {"dataset", "list"});
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out.find("mnist") != std::string::npos);
  CHECK(listed.out.find(v2) != std::string::npos);

  HttpClient http(controller.endpoint(), std::chrono::seconds(10));
  // Registering datasets is for admins (root, with a controller run --insecure).
  const HttpHeaders user = {{"X-Sy-User", "root"}, {"Content-Type", "application/json"}};
  auto manifest = http.request("GET", "/v1/datasets/mnist/manifest?version=" + v1, "", user);
  REQUIRE(manifest.ok());
  REQUIRE(manifest->status == 200);
  CHECK(nlohmann::json::parse(manifest->body)["files"][0]["path"] == "a.txt");

  // Bad input: each answer names the field, and nothing is recorded.
  const auto error_of = [&](const std::string& body) {
    auto r = http.request("POST", "/v1/datasets", body, user);
    REQUIRE(r.ok());
    CHECK(r->status >= 400);
    return nlohmann::json::parse(r->body)["error"];
  };
  CHECK(error_of(R"({"name":"../x","source":"/tmp"})")["field"] == "name");
  CHECK(error_of(R"({"name":"x","source":"relative/dir"})")["field"] == "source");
  CHECK(error_of(R"({"name":"x","source":"s3://bucket/x"})")["field"] == "source");
  CHECK(error_of(R"({"name":"x","source":"/nonexistent/dir"})")["field"] == "source");
  CHECK(error_of(R"({"name":"x","source":"/tmp","extra":1})")["field"] == "extra");
  data.write("evil/ok.txt", "x");
  REQUIRE(::symlink("/etc/passwd", (data.path() + "/evil/passwd").c_str()) == 0);
  const auto symlinked = error_of(R"({"name":"evil","source":")" + data.path() + R"(/evil"})");
  CHECK(symlinked["field"] == "source");
  CHECK(symlinked["message"].get<std::string>().find("symlink") != std::string::npos);
  CHECK(http.request("GET", "/v1/datasets/evil", "", user)->status == 404);
  CHECK(sy_cli(controller, {"dataset", "show", "nope"}).exit_code == 1);
  CHECK(sy_cli(controller, {"dataset", "add", "x"}).exit_code == 2);

  // Registered datasets survive a restart.
  controller.stop();
  controller.start();
  auto after = sy_cli(controller, {"dataset", "show", "mnist", "--json"});
  REQUIRE(after.exit_code == 0);
  CHECK(nlohmann::json::parse(after.out)["version"] == v2);
  controller.stop();
}
