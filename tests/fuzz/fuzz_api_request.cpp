// The API's request handling (authentication with user headers and session tokens, routing, the
// job, session, cluster and dashboard-file endpoints, validation of every field) on arbitrary
// requests, against a real store in a temporary directory. An input is
// "METHOD TARGET\n", header lines "Name: value\n", a blank line, then the body.
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include "controller/api/authenticator.hpp"
#include "controller/api/cluster_api.hpp"
#include "controller/api/job_api.hpp"
#include "controller/api/router.hpp"
#include "controller/api/session_api.hpp"
#include "controller/api/ui_files.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/migrations.hpp"

namespace {

struct Controller {
  std::unique_ptr<sy::store::CommitQueue> writes;
  sy::store::JobReads reads, cluster_reads;
  std::unique_ptr<sy::api::JobApi> jobs;
  std::unique_ptr<sy::api::ApiRouter> router;
  sy::nodes::NodeRegistry registry{sy::topo::ClusterNetwork(std::vector<sy::topo::SpineSwitch>{})};
  sy::nodes::StagingTracker staging;
  std::unique_ptr<sy::api::ClusterApi> cluster;
  sy::api::SessionTokens sessions;
  std::unique_ptr<sy::api::SessionApi> session_api;
  sy::api::UiFiles ui;

  Controller() {
    char dir[] = "/tmp/sy-fuzz-api.XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    const std::string path = std::string(dir) + "/switchyard.db";
    auto db = sy::store::Db::open(path, sy::store::Db::Mode::read_write);
    if (!db || !sy::store::migrate(db.value())) std::abort();
    auto queue = sy::store::CommitQueue::start(std::move(db).value(), 64);
    if (!queue) std::abort();
    writes = std::move(queue).value();
    auto opened = sy::store::open_job_reads(path);
    auto opened_too = sy::store::open_job_reads(path);
    if (!opened || !opened_too) std::abort();
    reads = std::move(opened).value();
    cluster_reads = std::move(opened_too).value();
    jobs = std::make_unique<sy::api::JobApi>(*writes, *reads.jobs, [] { return std::int64_t{1}; });
    // Headers name the user, as with --insecure: the fuzzer reaches every handler.
    router = std::make_unique<sy::api::ApiRouter>(sy::api::Authenticator({true, false, "", {}}));
    router->add("/v1/jobs", *jobs);
    cluster = std::make_unique<sy::api::ClusterApi>(*cluster_reads.jobs, registry, staging);
    router->add("/v1/cluster", *cluster);
    const auto clock = [] { return std::int64_t{1}; };
    router->authenticator().set_sessions(sessions, clock);
    session_api = std::make_unique<sy::api::SessionApi>(sessions, clock);
    router->add("/v1/sessions", *session_api);
    router->add_public("/ui", ui);
    router->add_public("/", ui);
  }
};

sy::api::ApiRequest parse_input(std::string_view in) {
  sy::api::ApiRequest request;
  auto line = [&in]() {
    const auto end = in.find('\n');
    std::string_view l = in.substr(0, end);
    in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
    return l;
  };
  std::string_view first = line();
  const auto space = first.find(' ');
  request.method = std::string(first.substr(0, space));
  sy::api::set_target(request, space == std::string_view::npos ? "" : first.substr(space + 1));
  while (!in.empty()) {
    std::string_view header = line();
    if (header.empty()) break;
    const auto colon = header.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(header.substr(0, colon));
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = header.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    request.headers[name] = std::string(value);
  }
  request.body = std::string(in);
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Controller controller;
  auto request = parse_input(std::string_view(reinterpret_cast<const char*>(data), size));
  auto answered = std::make_shared<std::promise<sy::api::ApiResponse>>();
  auto future = answered->get_future();
  controller.router->handle(std::move(request), [answered](sy::api::ApiResponse r) {
    answered->set_value(std::move(r));
  });
  // Every request is answered, and with a status the API documents.
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) std::abort();
  const auto response = future.get();
  if (response.status < 200 || response.status > 599) std::abort();
  if (response.status >= 400 && !response.body.contains("error")) std::abort();
  return 0;
}
