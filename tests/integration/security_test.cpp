// Trust, end to end through the real binaries: users proven by the controller's local socket
// (SO_PEERCRED) and by MUNGE (a real munged started here), each seeing and cancelling only
// their own jobs; TLS agents admitted only with a certificate of the cluster CA naming their
// node; a job running under its submitter's uid. Ownership is asserted in every run, root or not:
// over the API with two unprivileged identities (an --insecure controller trusts X-Sy-User, the
// test's seam), and as root with two real system users through the local socket and MUNGE.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <memory>

#include "common/http_client.hpp"
#include "common/munge_credential.hpp"
#include "tests/support/cluster_ca.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/sy_cli.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool can_switch_users() {
  return ::geteuid() == 0 && fs::exists("/usr/bin/setpriv");
}

// A munged of our own (its own key and socket); `why_not` says why there is none (not root, or
// the package missing). Where it can run, failing to start fails the test.
struct Munged {
  std::unique_ptr<ChildProcess> process;
  std::string socket, why_not;
  explicit Munged(const TempDir& dir) {
    if (::geteuid() != 0) {
      why_not = "munged needs root here";
      return;
    }
    if (!fs::exists("/usr/sbin/munged")) {
      why_not = "/usr/sbin/munged is missing [package munge]";
      return;
    }
    const std::string home = dir.file("munge");
    fs::create_directories(home);
    // Every user reaches the socket; only root reads the key.
    fs::permissions(home, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec |
                              fs::perms::group_read | fs::perms::others_read);
    REQUIRE(run_program({"/bin/sh", "-c",
                         "head -c 1024 /dev/urandom > " + home + "/munge.key && chmod 600 " + home +
                             "/munge.key"})
                .exit_code == 0);
    socket = home + "/munge.sock";
    process = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            "/usr/sbin/munged", "--foreground", "--force", "--socket=" + socket,
            "--key-file=" + home + "/munge.key", "--log-file=" + home + "/munged.log",
            "--pid-file=" + home + "/munged.pid", "--seed-file=" + home + "/munged.seed"},
        home + "/out.log");
    INFO("munged did not start: " + read_file(home + "/out.log"));
    REQUIRE(eventually([&] { return fs::exists(socket); }, 10s));
  }
  bool running() const { return process != nullptr; }
};

std::string submitted_id(const RunResult& r) {
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

}  // namespace

namespace {

// One identity's requests to a controller: X-Sy-User names it (trusted by --insecure only).
struct Identity {
  HttpClient& http;
  std::string user;  // empty: no identity at all
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = "") const {
    HttpHeaders headers{{"Content-Type", "application/json"}};
    if (!user.empty()) headers.emplace_back("X-Sy-User", user);
    auto r = http.request(method, target, body, headers);
    REQUIRE(r);
    return r.value();
  }
};

std::string error_code(const HttpResponse& r) {
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  return body.is_object() && body.contains("error") ? body["error"].value("code", "") : "";
}

}  // namespace

TEST_CASE("every ownership refusal holds for two unprivileged identities, root or not",
          "[integration][security]") {
  ControllerFixture controller("auth: {admins: [carol]}\n");
  controller.start();
  HttpClient http(controller.endpoint(), 10s);
  const Identity alice{http, "alice"}, bob{http, "bob"}, carol{http, "carol"}, nobody{http, ""};
  const std::string job =
      R"({"name":"mine","command":["sleep","30"],"resources":{"gpus_per_node":1}})";

  // No identity: every job endpoint answers 401, and nothing is created.
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v1/jobs"}, {"POST", "/v1/jobs"}}) {
    auto r = nobody.call(method, target, job);
    INFO(method << " " << target << ": " << r.body);
    CHECK(r.status == 401);
    CHECK(error_code(r) == "unauthenticated");
  }
  auto submitted = alice.call("POST", "/v1/jobs", job);
  INFO(submitted.body);
  REQUIRE(submitted.status == 201);
  const std::string id = std::to_string(nlohmann::json::parse(submitted.body)["id"].get<int>());
  CHECK(nobody.call("GET", "/v1/jobs/" + id).status == 401);
  CHECK(nobody.call("DELETE", "/v1/jobs/" + id).status == 401);

  // Another user: show, logs and cancel are 403 forbidden, naming the job as another's.
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/v1/jobs/" + id},
                                                        {"GET", "/v1/jobs/" + id + "/logs"},
                                                        {"DELETE", "/v1/jobs/" + id}}) {
    auto r = bob.call(method, target);
    INFO(method << " " << target << ": " << r.body);
    CHECK(r.status == 403);
    CHECK(error_code(r) == "forbidden");
    CHECK(r.body.find("belongs to another user") != std::string::npos);
  }
  // bob's list holds none of alice's jobs, and asking for hers by name is refused.
  auto listed = bob.call("GET", "/v1/jobs?state=all");
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find("alice") == std::string::npos);
  auto theirs = bob.call("GET", "/v1/jobs?user=alice");
  CHECK(theirs.status == 403);
  CHECK(error_code(theirs) == "forbidden");
  // Administrative endpoints: 403 for users, allowed for an admin named in auth.admins.
  auto drain = bob.call("POST", "/v1/nodes/node01/drain", "{}");
  CHECK(drain.status == 403);
  CHECK(drain.body.find("only admins may drain nodes") != std::string::npos);
  auto dataset = bob.call("POST", "/v1/datasets", R"({"name":"ds","source":"/tmp"})");
  CHECK(dataset.status == 403);
  CHECK(dataset.body.find("only admins may register datasets") != std::string::npos);
  CHECK(carol.call("POST", "/v1/nodes/node01/drain", "{}").status == 404);  // admin: no such node

  // bob's refused cancel changed nothing; alice and the admin see and act on the job.
  auto shown = alice.call("GET", "/v1/jobs/" + id);
  REQUIRE(shown.status == 200);
  CHECK(nlohmann::json::parse(shown.body).value("state", "") == "PENDING");
  CHECK(carol.call("GET", "/v1/jobs/" + id).status == 200);
  auto hers = carol.call("GET", "/v1/jobs?user=alice");
  CHECK(hers.status == 200);
  CHECK(hers.body.find("\"mine\"") != std::string::npos);
  CHECK(alice.call("DELETE", "/v1/jobs/" + id).status == 200);
  CHECK(nlohmann::json::parse(alice.call("GET", "/v1/jobs/" + id).body).value("state", "") ==
        "CANCELLED");
}

TEST_CASE("a controller without --insecure refuses every unproven identity with 401",
          "[integration][security]") {
  TempDir dir;
  make_cluster_ca(dir.file("ca"), {});
  ControllerFixture controller(tls_config(dir.file("ca")), {});
  controller.start();
  auto tls = tls::client_context({dir.file("ca") + "/ca.crt", "", ""});
  REQUIRE(tls);
  HttpClient http(ServerAddress{ServerAddress::Kind::tls, controller.endpoint(), ""}, 10s,
                  tls.value());
  const std::vector<std::pair<std::string, HttpHeaders>> unproven{
      {"no identity", {}},
      {"a spoofed X-Sy-User", {{"X-Sy-User", "root"}}},
      {"a forged MUNGE credential", {{"Authorization", "MUNGE MUNGE:AAAA:"}}},
      {"an unknown session token", {{"Authorization", "Bearer 0123456789abcdef"}}}};
  for (const auto& [what, headers] : unproven) {
    for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/v1/jobs"}, {"POST", "/v1/jobs"}, {"GET", "/v1/jobs/1"}}) {
      HttpHeaders all = headers;
      all.emplace_back("Content-Type", "application/json");
      auto r = http.request(method, target, R"({"command":["true"]})", all);
      REQUIRE(r);
      INFO(what << ": " << method << " " << target << ": " << r->body);
      CHECK(r->status == 401);
      CHECK(error_code(r.value()) == "unauthenticated");
    }
  }
}

TEST_CASE("users see and cancel only their own jobs", "[integration][security]") {
  if (!can_switch_users()) SY_SKIP("acting as other users needs root and setpriv");
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::all);  // other users read the job files here
  make_cluster_ca(dir.file("ca"), {});
  Munged munged(dir);
  const std::string munge_line =
      munged.running() ? "auth: {munge_socket: " + munged.socket + "}\n" : "";
  ControllerFixture controller(tls_config(dir.file("ca"), munge_line), {});
  controller.start();
  fs::permissions(controller.dir().path(), fs::perms::all);  // the local socket is inside
  const SyCli root{controller.local_address(), {}, {}};
  const SyCli daemon_user = root.as("daemon");
  const SyCli bin_user = root.as("bin");
  const std::string job =
      dir.write("job.yaml", "name: mine\nresources: {gpus_per_node: 1}\ncommand: [sleep, '30']\n");
  fs::permissions(job, fs::perms::all);

  const std::string theirs = submitted_id(daemon_user.run({"submit", "--parsable", job}));
  const std::string roots = submitted_id(root.run({"submit", "--parsable", job}));
  CHECK(root.show(theirs).value("user", "") == "daemon");  // named by its uid, not by a header

  SECTION("over the local socket") {
    for (const auto& verb : {"show", "logs", "cancel"}) {
      auto r = bin_user.run({verb, theirs});
      INFO(verb << ": " << r.err);
      CHECK(r.exit_code == 1);
      CHECK(r.err.find("belongs to another user") != std::string::npos);
    }
    auto listed = bin_user.run({"queue"});
    CHECK(listed.exit_code == 0);
    CHECK(listed.out.find("daemon") == std::string::npos);
    CHECK(bin_user.run({"queue", "--user", "daemon"}).exit_code == 1);
    CHECK(root.run({"queue"}).out.find("daemon") != std::string::npos);  // root administers
    CHECK(bin_user.run({"drain", "node01"}).err.find("only admins") != std::string::npos);
    CHECK(daemon_user.run({"cancel", theirs}).exit_code == 0);
    CHECK(root.show(theirs).value("state", "") == "CANCELLED");
  }

  SECTION("over TLS, where only a MUNGE credential names the user") {
    const std::string https = "https://127.0.0.1:" + std::to_string(controller.endpoint().port);
    auto tls = tls::client_context({dir.file("ca") + "/ca.crt", "", ""});
    REQUIRE(tls);
    // A header is not a proof: the controller ignores X-Sy-User unless run --insecure.
    HttpClient http(ServerAddress{ServerAddress::Kind::tls, controller.endpoint(), ""}, 10s,
                    tls.value());
    auto spoofed = http.request("GET", "/v1/jobs", "", {{"X-Sy-User", "root"}});
    REQUIRE(spoofed);
    CHECK(spoofed->status == 401);
    if (!munged.running()) SY_SKIP("the MUNGE half: " + munged.why_not);
    auto credential = munge::encode(munged.socket);
    REQUIRE(credential);
    const HttpHeaders munge_header{{"Authorization", "MUNGE " + credential.value()}};
    auto first = http.request("GET", "/v1/jobs/" + roots, "", munge_header);
    REQUIRE(first);
    CHECK(first->status == 200);
    auto replayed = http.request("GET", "/v1/jobs/" + roots, "", munge_header);
    REQUIRE(replayed);
    CHECK(replayed->status == 401);
    CHECK(replayed->body.find("Replayed") != std::string::npos);

    const std::string config = dir.write("sy.yaml", "munge_socket: " + munged.socket + "\n");
    fs::permissions(config, fs::perms::all);
    SyCli remote{https, {}, {{"SY_TLS_CA", dir.file("ca") + "/ca.crt"}, {"SY_CONFIG", config}}};
    auto shown = remote.as("daemon").run({"show", theirs});
    INFO(shown.err);
    CHECK(shown.exit_code == 0);
    auto refused = remote.as("bin").run({"cancel", theirs});
    CHECK(refused.err.find("belongs to another user") != std::string::npos);
    CHECK(remote.as("bin").run({"show", roots}).exit_code == 1);
    CHECK(remote.run({"show", theirs}).exit_code == 0);  // root, by MUNGE too
  }
}

TEST_CASE(
    "agents need a certificate of the cluster CA naming their node and jobs run as their user",
    "[integration][security]") {
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::all);
  make_cluster_ca(dir.file("ca"), {"node01"});
  make_cluster_ca(dir.file("rogue"), {"node01"});
  ControllerFixture controller(tls_config(dir.file("ca")), {});
  controller.start();
  fs::permissions(controller.dir().path(), fs::perms::all);
  const std::string https = "https://127.0.0.1:" + std::to_string(controller.endpoint().port);
  const SyCli root{controller.local_address(), {}, {}};
  std::vector<std::unique_ptr<ChildProcess>> agents;
  auto start_agent = [&](const std::string& node, const std::string& ca_dir,
                         const std::string& cert_of, const std::string& tag) {
    std::vector<std::string> argv{agent_binary(),
                                  "--controller",
                                  https,
                                  "--node-name",
                                  node,
                                  "--tls-ca",
                                  dir.file("ca") + "/ca.crt",
                                  "--tls-cert",
                                  ca_dir + "/" + cert_of + ".crt",
                                  "--tls-key",
                                  ca_dir + "/" + cert_of + ".key",
                                  "--tier0",
                                  dir.file("tier0-" + tag),
                                  "--spool",
                                  dir.file("spool-" + tag),
                                  "--topology",
                                  source_dir() + "/examples/topologies/dgx1-v100.yaml"};
    agents.push_back(std::make_unique<ChildProcess>(argv, dir.file(tag + ".log")));
  };

  // Signed by another CA: the handshake fails. A good certificate for another node: refused.
  start_agent("node01", dir.file("rogue"), "node01", "rogue");
  start_agent("node02", dir.file("ca"), "node01", "borrowed");
  // Plain TCP to a TLS controller gets nowhere either.
  agents.push_back(std::make_unique<ChildProcess>(
      std::vector<std::string>{agent_binary(), "--insecure", "--controller", controller.address(),
                               "--node-name", "node03", "--tier0", dir.file("tier0-plain"),
                               "--spool", dir.file("spool-plain"), "--topology",
                               source_dir() + "/examples/topologies/dgx1-v100.yaml"},
      dir.file("plain.log")));
  CHECK(eventually(
      [&] {
        return read_file(dir.file("borrowed.log")).find("certificate is for 'node01'") !=
               std::string::npos;
      },
      10s));
  CHECK(eventually(
      [&] { return controller.log().find("TLS handshake refused") != std::string::npos; }, 10s));
  CHECK(root.nodes_up() == 0);
  INFO(read_file(dir.file("rogue.log")));
  CHECK(read_file(dir.file("rogue.log")).find("unknown ca") != std::string::npos);

  // No client certificate at all: the agents' endpoint is closed to it.
  auto tls = tls::client_context({dir.file("ca") + "/ca.crt", "", ""});
  REQUIRE(tls);
  HttpClient http(ServerAddress{ServerAddress::Kind::tls, controller.endpoint(), ""}, 10s,
                  tls.value());
  auto upgrade = http.request("GET", "/v1/agents/connect", "",
                              {{"Connection", "Upgrade"},
                               {"Upgrade", "websocket"},
                               {"Sec-WebSocket-Version", "13"},
                               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
  REQUIRE(upgrade);
  CHECK(upgrade->status == 403);

  // The real node01 joins; a job daemon submits runs as daemon there, not as root.
  start_agent("node01", dir.file("ca"), "node01", "good");
  REQUIRE(eventually([&] { return root.nodes_up() == 1; }, 20s));
  CHECK(root.nodes_up() == 1);
  if (!can_switch_users()) SY_SKIP("the run-as-user half needs root and setpriv");
  const std::string job = dir.write("id.yaml", "resources: {gpus_per_node: 1}\ncommand: [id]\n");
  fs::permissions(job, fs::perms::all);
  const std::string id = submitted_id(root.as("daemon").run({"submit", "--parsable", job}));
  REQUIRE(eventually([&] { return root.show(id).value("state", "") == "COMPLETED"; }, 30s));
  const std::string log = root.run({"logs", id}).out;
  INFO(log);
  CHECK(log.find("uid=1(daemon) gid=1(daemon)") != std::string::npos);
}
