#include "controller/controller.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/agent_protocol.hpp"
#include "common/comma_list.hpp"
#include "common/log.hpp"
#include "common/service_manager.hpp"
#include "common/topology/cluster_network.hpp"
#include "controller/api/cluster_api.hpp"
#include "controller/api/dataset_api.hpp"
#include "controller/api/events_hub.hpp"
#include "controller/api/http_server.hpp"
#include "controller/api/job_api.hpp"
#include "controller/api/metrics_api.hpp"
#include "controller/api/node_api.hpp"
#include "controller/api/router.hpp"
#include "controller/api/session_api.hpp"
#include "controller/api/ui_files.hpp"
#include "controller/nodes/agent_gateway.hpp"
#include "controller/nodes/manifest_server.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/runtime/job_logs.hpp"
#include "controller/runtime/job_runner.hpp"
#include "controller/runtime/retention.hpp"
#include "controller/runtime/scheduling_loop.hpp"
#include "controller/scheduler/profiles.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/migrations.hpp"

namespace sy::controller {
namespace {

namespace fs = std::filesystem;

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One controller per state directory: a second one would fight over the database.
Result<int, std::string> lock_state_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create state directory " + dir + ": " + ec.message());
  const std::string path = dir + "/controller.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail("another sy-controller is using " + dir + " (" + path + " is locked)");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::write(fd, pid.data(), pid.size()) < 0) {
    SY_LOG(warn, "controller") << "cannot record pid in " << path;
  }
  return fd;
}

// store::open_job_reads, or nullopt with the reason logged.
std::optional<store::JobReads> open_job_reads(const std::string& db_path) {
  auto reads = store::open_job_reads(db_path);
  if (!reads) {
    SY_LOG(error, "store") << reads.error().message;
    return std::nullopt;
  }
  return std::move(reads).value();
}

// The fair-share ledger, filled from the job history the first time it is found empty.
Result<void, store::StoreError> seed_fair_share(store::Db& db, std::int64_t half_life_ms) {
  auto jobs = store::JobStore::open(db);
  if (!jobs) return fail(std::move(jobs).error());
  jobs->set_usage_half_life(half_life_ms);
  auto begun = db.exec("BEGIN IMMEDIATE");
  if (!begun) return begun;
  auto seeded = jobs->seed_usage_ledger(wall_clock_ms());
  if (!seeded) {
    (void)db.exec("ROLLBACK");
    return fail(std::move(seeded).error());
  }
  return db.exec("COMMIT");
}

// Where a browser reaches this controller: the address it listens on, or the host's name when
// that is every address.
std::string browser_url(const Endpoint& bound, bool tls) {
  Endpoint shown = bound;
  if (shown.host == "0.0.0.0" || shown.host == "::") {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0) shown.host = name;
  }
  return (tls ? "https://" : "http://") + shown.to_string();
}

Result<void, std::string> write_port_file(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return fail("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);  // readers never see a half-written file
  if (ec) return fail("cannot write " + path + ": " + ec.message());
  return {};
}

// SIGHUP: what can change while serving changes now; the rest is named for a restart. A file
// that no longer loads changes nothing.
void reload(ControllerConfig& running, const RunOptions& options, api::ApiRouter& router) {
  if (!options.reload) {
    SY_LOG(info, "controller") << "SIGHUP: started without --config, nothing to reload";
    return;
  }
  service::notify_reloading();
  auto next = options.reload();
  if (!next) {
    SY_LOG(error, "controller") << "reload failed, the configuration in use is unchanged: "
                                << next.error();
    return;
  }
  for (const std::string& setting : settings_needing_restart(running, next.value())) {
    SY_LOG(warn, "controller") << "reload: " << setting
                               << " changed; it takes effect when the controller restarts";
  }
  log::set_level(next->log_level);
  running.log_level = next->log_level;
  router.authenticator().set_admins(next->admins);
  running.admins = next->admins;
  std::vector<std::string> admins{"root"};
  admins.insert(admins.end(), running.admins.begin(), running.admins.end());
  SY_LOG(info, "controller") << "configuration reloaded: log_level "
                             << log::level_name(running.log_level) << ", admins "
                             << join_commas(admins);
}

}  // namespace

int run_controller(const ControllerConfig& config, const RunOptions& options) {
  log::set_level(config.log_level);
  auto lock = lock_state_dir(config.state_dir);
  if (!lock) {
    SY_LOG(error, "controller") << lock.error();
    return 1;
  }
  const std::string db_path = config.state_dir + "/switchyard.db";
  auto writer_db = store::Db::open(db_path, store::Db::Mode::read_write);
  if (!writer_db) {
    SY_LOG(error, "store") << writer_db.error().message;
    return 1;
  }
  auto version = store::migrate(writer_db.value());
  if (!version) {
    SY_LOG(error, "store") << version.error().message;
    return 1;
  }
  auto reads = open_job_reads(db_path);
  if (!reads) return 1;
  topo::ClusterNetwork network;
  if (!config.cluster_network_path.empty()) {
    auto doc = load_yaml_file(config.cluster_network_path);
    auto loaded = doc ? topo::cluster_network_from_document(doc.value())
                      : Result<topo::ClusterNetwork, SpecError>(fail(doc.error()));
    if (!loaded) {
      SY_LOG(error, "controller") << loaded.error().to_string();
      return 1;
    }
    network = std::move(loaded).value();
  }
  nodes::NodeRegistry registry(network);
  {
    auto node_reader = store::NodeStore::open(*reads->db);
    auto rows =
        node_reader
            ? node_reader->list()
            : Result<std::vector<store::NodeRow>, store::StoreError>(fail(node_reader.error()));
    if (!rows) {
      SY_LOG(error, "store") << rows.error().message;
      return 1;
    }
    const std::int64_t recovery_ms =
        config.heartbeat_timeout_ms +
        config.recovery_per_node_ms * static_cast<std::int64_t>(rows->size());
    registry.load(rows.value(), wall_clock_ms(), recovery_ms);
    if (const std::size_t awaited = registry.awaiting_registration(); awaited > 0) {
      SY_LOG(info, "agents") << "recovery: " << awaited
                             << " nodes were up; none is declared DOWN for " << recovery_ms / 1000.0
                             << " s unless it registers first";
    }
  }
  const auto scorers = placement::make_placement_scorers();
  auto profile = sched::make_profile(config.scheduler_profile, scorers, config.scorer_weights);
  if (!profile) {
    SY_LOG(error, "controller") << profile.error();
    return 1;
  }
  profile->default_time_limit_ms = config.default_time_limit_ms;
  profile->backfill_depth = config.backfill_depth;
  profile->staging_bytes_per_s = config.staging_bytes_per_s;
  profile->staging_horizon_ms = config.staging_horizon_ms;
  auto scheduler_reads = open_job_reads(db_path);
  if (!scheduler_reads) return 1;
  auto scheduler_datasets = store::DatasetStore::open(*scheduler_reads->db);
  if (!scheduler_datasets) {
    SY_LOG(error, "store") << scheduler_datasets.error().message;
    return 1;
  }
  if (auto seeded = seed_fair_share(writer_db.value(), config.fair_share_half_life_ms); !seeded) {
    SY_LOG(error, "store") << seeded.error().message;
    return 1;
  }
  auto writes = store::CommitQueue::start(std::move(writer_db).value(), config.max_batch,
                                          config.fair_share_half_life_ms);
  if (!writes) {
    SY_LOG(error, "store") << writes.error().message;
    return 1;
  }
  SY_LOG(info, "store") << "database " << db_path << " at schema version " << version.value();

  boost::asio::io_context ioc(1);
  api::JobApi job_api(*writes.value(), *reads->jobs, wall_clock_ms);
  auto node_reads = open_job_reads(db_path);
  if (!node_reads) return 1;
  api::NodeApi node_api(*writes.value(), *node_reads->jobs, registry, wall_clock_ms);
  auto dataset_db = store::Db::open(db_path, store::Db::Mode::read_only);
  auto dataset_reads =
      dataset_db ? store::DatasetStore::open(dataset_db.value())
                 : Result<store::DatasetStore, store::StoreError>(fail(dataset_db.error()));
  if (!dataset_reads) {
    SY_LOG(error, "store") << dataset_reads.error().message;
    return 1;
  }
  nodes::StagingTracker staging;
  nodes::AgentGateway gateway(ioc, *writes.value(), registry, staging,
                              {config.heartbeat_interval_ms, config.heartbeat_timeout_ms},
                              wall_clock_ms);
  api::DatasetApi dataset_api(*writes.value(), dataset_reads.value(), registry, gateway, staging,
                              wall_clock_ms, 8);
  api::ApiRouter router(api::Authenticator(
      {config.insecure && !config.tls.any(), config.munge, config.munge_socket, config.admins}));
  router.add("/v1/jobs", job_api);
  router.add("/v1/nodes", node_api);
  router.add("/v1/datasets", dataset_api);
  auto metrics_reads = open_job_reads(db_path);
  if (!metrics_reads) return 1;
  api::MetricsApi metrics_api(*metrics_reads->jobs, registry, staging, wall_clock_ms);
  router.add_public("/metrics", metrics_api);

  // The web dashboard: its files for anyone, its data for the user of a session token.
  api::SessionTokens sessions;
  router.authenticator().set_sessions(sessions, wall_clock_ms);
  api::SessionApi session_api(sessions, wall_clock_ms);
  router.add("/v1/sessions", session_api);
  api::UiFiles ui_files;
  router.add_public("/ui", ui_files);
  router.add_public("/", ui_files);
  auto cluster_reads = open_job_reads(db_path);
  if (!cluster_reads) return 1;
  api::ClusterApi cluster_api(*cluster_reads->jobs, registry, staging);
  router.add("/v1/cluster", cluster_api);
  api::EventsHub events(
      ioc,
      [&sessions, &router](const std::string& token) -> std::optional<api::Viewer> {
        auto session = sessions.find(token, wall_clock_ms());
        if (!session) return std::nullopt;
        return api::Viewer{session->user, router.authenticator().is_admin(session->user)};
      },
      [&cluster_api](const api::Viewer& viewer) { return cluster_api.view(viewer); },
      std::chrono::seconds(1));
  runtime::SchedulingLoop scheduling(*writes.value(), *scheduler_reads->jobs,
                                     scheduler_datasets.value(), registry, profile.value(),
                                     config.fair_share_half_life_ms, wall_clock_ms);
  scheduling.set_on_pass([&metrics_api](double seconds) { metrics_api.observe_pass(seconds); });
  auto runner_jobs = open_job_reads(db_path);
  if (!runner_jobs) return 1;
  auto runner_datasets = store::DatasetStore::open(*runner_jobs->db);
  if (!runner_datasets) {
    SY_LOG(error, "store") << runner_datasets.error().message;
    return 1;
  }
  // Manifests for agents' stage orders, read on the server's own thread and connection.
  auto manifest_db = store::Db::open(db_path, store::Db::Mode::read_only);
  if (!manifest_db) {
    SY_LOG(error, "store") << manifest_db.error().message;
    return 1;
  }
  auto manifest_reads = store::DatasetStore::open(manifest_db.value());
  if (!manifest_reads) {
    SY_LOG(error, "store") << manifest_reads.error().message;
    return 1;
  }
  nodes::ManifestServer manifests(manifest_reads.value(),
                                  [&gateway](const std::string& node, const nlohmann::json& m) {
                                    return gateway.send_to(node, m);
                                  });
  gateway.set_on_manifest_request(
      [&manifests](const std::string& node, protocol::ManifestRequest r) {
        manifests.request(node, std::move(r));
      });
  job_api.set_staging(staging);
  runtime::JobLogs logs(config.state_dir + "/logs");
  job_api.set_logs(logs);
  runtime::Retention retention(ioc, *writes.value(), logs, config.state_dir + "/archive",
                               config.keep_ended_jobs_ms, wall_clock_ms);
  runtime::JobRunner runner(ioc, *writes.value(), *runner_jobs->jobs, runner_datasets.value(),
                            registry, staging, gateway, wall_clock_ms,
                            config.default_time_limit_ms);
  // Jobs that change reach the runner through the commit queue's change feed; nodes that
  // change ask it for a sweep.
  auto reschedule = [&scheduling, &runner] {
    scheduling.request();
    runner.request();
  };
  job_api.set_on_change([&scheduling] { scheduling.request(); });
  job_api.set_on_submit([&scheduling] { scheduling.request(); });
  node_api.set_on_change(reschedule);
  gateway.set_on_change(reschedule);
  gateway.set_on_job_reports(
      [&runner](const std::string& node, const std::vector<protocol::JobReport>& reports,
                nodes::AgentGateway::Reports kind, std::uint64_t registration) {
        runner.on_job_reports(node, reports, kind, registration);
      });
  gateway.set_on_job_message([&runner, &logs, &gateway](const std::string& node,
                                                        const std::string& type,
                                                        const nlohmann::json& m) {
    if (type != "job_output") return runner.on_exec_message(node, type, m);
    auto output = protocol::read_job_output(m);
    if (!output) {
      SY_LOG(warn, "agents") << "node " << node << ": " << output.error();
      return;
    }
    gateway.send_to(node,
                    protocol::output_ack_message(output->job, logs.append(node, output.value())));
  });
  scheduling.set_on_committed([&runner](std::vector<std::pair<std::string, std::string>> prestage) {
    runner.prestage(prestage);
  });
  runner.set_on_change([&scheduling] { scheduling.request(); });
  tls::Context tls;
  if (config.tls.any()) {
    auto made = tls::server_context(config.tls);
    if (!made) {
      SY_LOG(error, "http") << made.error();
      return 2;
    }
    tls = std::move(made).value();
  }
  api::HttpServer server(ioc, router,
                         {config.max_body_bytes, 16 << 10,
                          std::chrono::seconds(config.idle_timeout_s), tls, 64 << 20});
  server.add_websocket(protocol::kAgentPath, gateway);
  server.add_websocket("/v1/events", events, api::HttpServer::WebSocketPeers::browsers);
  auto bound = server.listen(config.listen);
  if (!bound) {
    SY_LOG(error, "http") << bound.error();
    return 1;
  }
  const std::string socket_path =
      config.local_socket.empty() ? config.state_dir + "/sy.sock" : config.local_socket;
  if (socket_path != "none") {
    auto local = server.listen_local(socket_path);
    if (!local) {
      SY_LOG(error, "http") << local.error();
      return 1;
    }
    SY_LOG(info, "http") << "local socket " << local.value();
  }
  if (!options.port_file.empty()) {
    if (auto w = write_port_file(options.port_file, bound->port); !w) {
      SY_LOG(error, "controller") << w.error();
      return 1;
    }
  }
  SY_LOG(info, "http") << "listening on " << (tls ? "https://" : "") << bound->to_string()
                       << (tls ? "" : " (insecure: plain TCP)");
  session_api.set_base_url(browser_url(bound.value(), static_cast<bool>(tls)));
  gateway.start();
  scheduling.start();
  runner.start();
  retention.start();
  SY_LOG(info, "scheduler") << "profile " << profile->name;

  service::Watchdog watchdog(ioc);
  watchdog.start();
  const std::string serving = "serving on " + bound->to_string();
  service::notify_ready(serving);

  ControllerConfig running = config;
  boost::asio::signal_set reload_signal(ioc, SIGHUP);
  std::function<void()> await_reload = [&] {
    reload_signal.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload(running, options, router);
      service::notify_ready(serving);
      await_reload();
    });
  };
  await_reload();

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  boost::asio::steady_timer grace(ioc);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    SY_LOG(info, "controller") << "signal " << signo << ": shutting down";
    service::notify_stopping("shutting down");
    watchdog.stop();
    reload_signal.cancel();
    server.stop_accepting();
    events.stop();
    gateway.stop();
    manifests.stop();
    scheduling.stop();
    runner.stop();
    retention.stop();
    writes.value()->stop();  // commits and answers everything already queued
    // Give the answers to those last writes a moment to leave, then stop serving.
    grace.expires_after(std::chrono::milliseconds(300));
    grace.async_wait([&](const boost::system::error_code&) { ioc.stop(); });
  });
  ioc.run();
  const auto stats = writes.value()->stats();
  SY_LOG(info, "store") << "committed " << stats.operations << " writes in " << stats.batches
                        << " transactions (largest " << stats.largest_batch << ")";
  ::close(lock.value());
  SY_LOG(info, "controller") << "stopped";
  return 0;
}

}  // namespace sy::controller
