// sy-agent: the Switchyard node agent.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <regex>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "agent/agent_config.hpp"
#include "agent/agent_metrics.hpp"
#include "agent/command_line.hpp"
#include "agent/controller_link.hpp"
#include "agent/discovery.hpp"
#include "agent/job_cgroup.hpp"
#include "agent/job_supervisor.hpp"
#include "agent/metrics_server.hpp"
#include "agent/orders.hpp"
#include "agent/rsh_server.hpp"
#include "agent/slurm_shims.hpp"
#include "agent/stage_command.hpp"
#include "agent/stage_worker.hpp"
#include "agent/staging/tier0_cache.hpp"
#include "common/agent_protocol.hpp"
#include "common/comma_list.hpp"
#include "common/log.hpp"
#include "common/service_manager.hpp"
#include "common/tls.hpp"
#include "common/topology/topology_file.hpp"
#include "common/units.hpp"

namespace {

int usage_error(const std::string& m) {
  std::cerr << "sy-agent: " << m << "\n(see sy-agent --help)\n";
  return 2;
}

// SIGHUP: the log level and the staging bandwidth change at once; the rest is named for a
// restart. A file that no longer loads changes nothing.
template <class Load>
void reload(sy::agent::AgentSettings& running, Load& load, sy::staging::Tier0Cache& cache) {
  using namespace sy;
  service::notify_reloading();
  auto next = load();
  if (!next) {
    SY_LOG(error, "agent") << "reload failed, the configuration in use is unchanged: "
                           << next.error();
    return;
  }
  std::int64_t read_limit = 0;
  if (!next->stage_bandwidth.empty()) {
    auto mib = parse_size_mib(next->stage_bandwidth, kMaxStorageSizeMib);
    if (!mib) {
      SY_LOG(error, "agent") << "reload failed, the configuration in use is unchanged: "
                             << "stage bandwidth: " << mib.error();
      return;
    }
    read_limit = mib.value() << 20;
  }
  for (const std::string& setting : agent::agent_settings_needing_restart(running, next.value())) {
    SY_LOG(warn, "agent") << "reload: " << setting
                          << " changed; it takes effect when the agent restarts";
  }
  log::Level level = log::Level::info;
  if (!next->log_level.empty()) log::parse_level(next->log_level, level);
  log::set_level(level);
  cache.set_read_limit(read_limit);
  running.log_level = next->log_level;
  running.stage_bandwidth = next->stage_bandwidth;
  SY_LOG(info, "agent") << "configuration reloaded: log_level " << log::level_name(level)
                        << ", stage_bandwidth "
                        << (read_limit == 0 ? std::string("unlimited") : next->stage_bandwidth);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sy;
  // Started as `srun` or `scontrol` from a job's bin directory (see agent/slurm_shims.hpp).
  const std::string started_as = std::filesystem::path(argv[0]).filename().string();
  if (started_as == "srun") return agent::run_srun_command(argc, argv);
  if (started_as == "scontrol") return agent::run_scontrol_command(argc, argv);
  if (argc > 1 && std::string(argv[1]) == "batch")
    return agent::run_batch_command(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "task")
    return agent::run_task_command(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "rsh") return agent::run_rsh_command(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "rank")
    return agent::run_rank_command(argc - 1, argv + 1);
  agent::AgentCommandLine cl;
  if (const auto stop = command_line::parse(cl.app, argc, argv)) return *stop;
  if (cl.stage->parsed()) return agent::run_stage_command(cl.stage_options);
  const bool discover_only = cl.discover->parsed(), check_only = cl.check_only;
  const std::string& config_path = cl.config_path;
  const agent::AgentSettings& flags = cl.flags;
  const auto& flags_given = cl.flags_given;
  const bool insecure_flag = cl.insecure, drain_flag = cl.drain_on_stop;
  auto load = [&]() -> Result<agent::AgentSettings, std::string> {
    agent::AgentSettings s;
    if (!config_path.empty()) {
      if (auto read = agent::read_agent_config(config_path, s); !read) {
        return fail(read.error().to_string());
      }
    }
    for (auto member : flags_given)
      s.*member = flags.*member;
    if (!flags.tls.ca.empty()) s.tls.ca = flags.tls.ca;
    if (!flags.tls.cert.empty()) s.tls.cert = flags.tls.cert;
    if (!flags.tls.key.empty()) s.tls.key = flags.tls.key;
    s.insecure = s.insecure || insecure_flag;
    s.drain_on_stop = s.drain_on_stop || drain_flag;
    log::Level lvl = log::Level::info;
    if (!s.log_level.empty() && !log::parse_level(s.log_level, lvl)) {
      return fail("log level must be debug, info, warn or error, not '" + s.log_level + "'");
    }
    return s;
  };
  auto initial = load();
  if (!initial) {
    std::cerr << "sy-agent: " << initial.error() << "\n";
    return 2;
  }
  agent::AgentSettings settings = std::move(initial).value();
  const std::string& controller = settings.controller;
  const std::string& topology_file = settings.topology_file;
  std::string node_name = settings.node_name;
  const std::string& features = settings.features;
  const std::string& tier0_dir = settings.tier0_dir;
  const std::string& tier0_quota = settings.tier0_quota;
  const std::string& spool_dir = settings.spool_dir;
  const std::string& stage_bandwidth = settings.stage_bandwidth;
  const std::string& mpirun = settings.mpirun;
  const std::string& cgroup = settings.cgroup;
  const tls::Files& tls_files = settings.tls;
  const bool insecure = settings.insecure;
  log::Level lvl = log::Level::info;
  if (!settings.log_level.empty()) log::parse_level(settings.log_level, lvl);
  log::set_level(lvl);

  topo::NodeTopology topology;
  if (!topology_file.empty()) {
    auto loaded = topo::load_node_topology(topology_file);
    if (!loaded) {
      std::cerr << "sy-agent: " << loaded.error().to_string() << "\n";
      return 2;
    }
    topology = std::move(loaded).value();
  } else {
    auto found = agent::discover_topology();
    if (!found) {
      std::cerr << "sy-agent: " << found.error() << "\n";
      return 1;
    }
    topology = std::move(found).value();
  }
  // Named as jobs name them in resources.features.
  for (const std::string& f : split_commas(features)) {
    static const std::regex name("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    if (!std::regex_match(f, name)) {
      return usage_error("--features: '" + f + "' is not a feature name (letters, digits, . _ -)");
    }
    if (!std::binary_search(topology.features.begin(), topology.features.end(), f)) {
      topology.features.insert(
          std::lower_bound(topology.features.begin(), topology.features.end(), f), f);
    }
  }
  if (discover_only) {
    std::cout << topo::node_topology_to_json(topology).dump(2) << "\n";
    return 0;
  }
  if (node_name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    node_name = host;
  }
  if (!protocol::valid_node_name(node_name))
    return usage_error("'" + node_name + "' is not a node name");
  auto address = parse_server_address(controller, kDefaultControllerPort);
  if (!address) return usage_error("--controller: " + address.error());
  if (address->kind == ServerAddress::Kind::local) {
    return usage_error("--controller: agents reach the controller over TCP (https://HOST:PORT)");
  }
  const Endpoint endpoint = address->endpoint;
  tls::Context tls;
  if (address->kind == ServerAddress::Kind::tls || tls_files.any()) {
    if (tls_files.cert.empty()) {
      return usage_error(
          "TLS: the controller only admits agents with a certificate of the cluster CA "
          "(--tls-cert, --tls-key)");
    }
    auto made = tls::client_context(tls_files);
    if (!made) return usage_error(made.error());
    tls = std::move(made).value();
  } else if (!insecure) {
    return usage_error(
        "no TLS: give --controller https://HOST:PORT with --tls-ca, --tls-cert and --tls-key, "
        "or --insecure for local development");
  }

  std::int64_t quota_bytes = 0, read_limit = 0;
  if (!tier0_quota.empty()) {
    auto mib = parse_size_mib(tier0_quota, kMaxStorageSizeMib);
    if (!mib) return usage_error("tier0 quota: " + mib.error());
    quota_bytes = mib.value() << 20;
  }
  if (!stage_bandwidth.empty()) {
    auto mib = parse_size_mib(stage_bandwidth, kMaxStorageSizeMib);
    if (!mib) return usage_error("stage bandwidth: " + mib.error());
    read_limit = mib.value() << 20;
  }
  if (check_only) {
    std::cout << (config_path.empty() ? "flags" : config_path) << ": ok (node " << node_name
              << ", controller " << address->to_string() << ")\n";
    return 0;
  }
  if (tier0_quota.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(tier0_dir, ec);
    const auto space = std::filesystem::space(tier0_dir, ec);
    if (ec) return usage_error("--tier0 " + tier0_dir + ": " + ec.message());
    quota_bytes = static_cast<std::int64_t>(static_cast<double>(space.capacity) * 0.9);
  }
  staging::Tier0Cache cache(tier0_dir, quota_bytes);
  cache.set_read_limit(read_limit);
  if (auto loaded = cache.load(); !loaded) {
    std::cerr << "sy-agent: --tier0: " << loaded.error() << "\n";
    return 1;
  }
  boost::asio::io_context ioc(1);
  agent::JobSupervisor* jobs_ptr = nullptr;  // set below: the link and the jobs need each other
  agent::ControllerLink link(ioc, endpoint, tls, node_name, topology, [&cache, &jobs_ptr] {
    return agent::ControllerLink::State{
        .datasets = agent::cache_contents(cache),
        .jobs = jobs_ptr ? jobs_ptr->reports() : std::vector<protocol::JobReport>{}};
  });
  const auto send = [&link](nlohmann::json m) { link.send(std::move(m)); };
  agent::StageWorker stager(cache, send, 16);
  agent::ManifestFetch manifests(
      send, [&stager](protocol::StageOrder order) { stager.order(std::move(order)); });
  agent::LaunchOptions launch{.node = node_name,
                              .topology = &topology,
                              .agent_path = "",
                              .mpirun = mpirun,
                              .hostname = "",
                              .cgroup_parent = std::nullopt,
                              .controllers = {},
                              .socket = (std::filesystem::path(spool_dir) / "agent.sock").string()};
  if (cgroup == "auto") {
    launch.cgroup_parent = agent::find_own_cgroup();
  } else if (cgroup != "none") {
    launch.cgroup_parent = cgroup;
  }
  if (cgroup != "none") {
    launch.controllers = agent::find_controllers(launch.cgroup_parent);
    std::vector<std::filesystem::path> dirs;
    for (const auto& d : {launch.cgroup_parent, launch.controllers.v1_cpuset,
                          launch.controllers.v1_memory, launch.controllers.v1_devices}) {
      if (d) dirs.push_back(*d);
    }
    if (const int stale = agent::remove_stale_job_cgroups(dirs, node_name); stale > 0) {
      SY_LOG(info, "agent") << "removed " << stale << " job cgroups an earlier agent left";
    }
  }
  agent::JobSupervisor jobs(cache, spool_dir, send, std::chrono::seconds(10), {}, launch);
  jobs_ptr = &jobs;
  agent::RshServer rsh(launch.socket, jobs, send);
  if (auto started = rsh.start(); !started) {
    std::cerr << "sy-agent: --spool: " << started.error() << "\n";
    return 1;
  }
  std::atomic<std::int64_t> registrations{0};
  agent::MetricsServer metrics(ioc, [&] {
    return agent::render_agent_metrics(
        {.node = node_name,
         .registrations = registrations.load(),
         .jobs = jobs.reports(),
         .cache_bytes = cache.used_bytes(),
         .cache_quota_bytes = quota_bytes,
         .cache_datasets = static_cast<std::int64_t>(cache.list().size()),
         .staging = stager.totals()});
  });
  if (!settings.metrics_listen.empty()) {
    auto at = parse_endpoint(settings.metrics_listen, 0);
    if (!at) return usage_error("--metrics-listen: " + at.error());
    auto bound = metrics.listen(at.value());
    if (!bound) return usage_error(bound.error());
    SY_LOG(info, "agent") << "metrics on http://" << at->host << ":" << bound.value() << "/metrics";
  }
  link.set_on_registered([&jobs, &controller, &registrations, &manifests] {
    ++registrations;
    manifests.connection_lost();  // the controller orders those stages again
    jobs.reconnected();
    service::notify_status("registered with the controller at " + controller);
  });
  link.set_on_order([&](const std::string& type, const nlohmann::json& m) {
    agent::carry_out(type, m, stager, manifests, jobs, &rsh, send);
  });
  service::Watchdog watchdog(ioc);
  boost::asio::signal_set reload_signal(ioc, SIGHUP);
  std::function<void()> await_reload = [&] {
    reload_signal.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload(settings, load, cache);
      service::notify_ready("node " + node_name);
      await_reload();
    });
  };
  await_reload();
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  boost::asio::steady_timer drain_timer(ioc);
  const auto stop_now = [&] {
    service::notify_stopping("stopping");
    watchdog.stop();
    reload_signal.cancel();
    signals.cancel();
    drain_timer.cancel();
    link.stop();
    ioc.stop();
  };
  // --drain-on-stop: the node is drained and the agent stops once every job has ended and the
  // controller has recorded it (nothing left to report); a second signal stops it at once.
  std::function<void()> drain_step = [&] {
    const std::size_t left = jobs.reports().size();
    if (left == 0) {
      SY_LOG(info, "agent") << "drained: every job has ended; stopping";
      send(protocol::stopped_message());
      drain_timer.expires_after(std::chrono::milliseconds(500));  // for the message to leave
      drain_timer.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) stop_now();
      });
      return;
    }
    service::notify_status("draining: " + std::to_string(left) + " jobs to finish");
    drain_timer.expires_after(std::chrono::seconds(1));
    drain_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) drain_step();
    });
  };
  bool draining = false;
  std::function<void()> await_stop = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (!settings.drain_on_stop || draining) {
        SY_LOG(info, "agent") << "signal " << signo << ": stopping";
        return stop_now();
      }
      draining = true;
      SY_LOG(info, "agent") << "signal " << signo << ": draining: running jobs finish, nothing "
                            << "new starts (a second signal stops at once)";
      send(protocol::drain_message());
      drain_step();
      await_stop();
    });
  };
  await_stop();
  SY_LOG(info, "agent") << "node " << node_name << ": " << topology.gpu_count() << " GPUs, "
                        << topology.nics.size() << " NICs; controller " << address->to_string()
                        << "; Tier-0 " << tier0_dir << " (" << cache.list().size() << " datasets, "
                        << cache.used_bytes() << " of " << quota_bytes << " bytes); jobs in "
                        << (launch.cgroup_parent ? "cgroups below " + launch.cgroup_parent->string()
                                                 : std::string("process groups"))
                        << "; job limits by " << launch.controllers.describe();
  link.start();
  watchdog.start();
  service::notify_ready("node " + node_name + ": connecting to the controller at " + controller);
  ioc.run();
  return 0;
}
