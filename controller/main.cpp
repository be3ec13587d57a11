// sy-controller: the Switchyard controller daemon.
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "controller/config.hpp"
#include "controller/controller.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: sy-controller [options]

Keeps the Switchyard job queue (SQLite, in --state-dir) and serves the REST API.

options:
  --config FILE       YAML configuration (see docs/configuration.md)
  --listen HOST:PORT  address of the API (default 127.0.0.1:6820; port 0 picks a free port)
  --state-dir DIR     where the database lives (default /var/lib/switchyard)
  --port-file FILE    write the bound port to FILE once listening
  --log-level LEVEL   debug, info, warn or error (default info)
  --tls-ca FILE       the cluster CA's certificate (with --tls-cert, --tls-key: serve TLS only)
  --tls-cert FILE     the controller's certificate (scripts/cluster-ca makes these)
  --tls-key FILE      its private key
  --insecure          without TLS: plain TCP, and the X-Sy-User header names the user (local
                      development only; the local socket still proves who connects)
  --check-config      validate the configuration and exit
  --version           print the version and exit
  -h, --help          print this help and exit

SIGTERM or SIGINT stops it cleanly: queued writes are committed and answered first. SIGHUP
reads --config again: log_level and auth.admins change at once; other changed settings are
named in the log and wait for a restart. Under systemd (Type=notify) it reports readiness,
reloads and stopping, and pings the watchdog (WatchdogSec=).
)";

int usage_error(const std::string& message) {
  std::cerr << "sy-controller: " << message << "\n(see sy-controller --help)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sy;
  std::string config_path, listen, state_dir, port_file, level, tls_ca, tls_cert, tls_key;
  bool check_only = false, insecure = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--version") {
      std::cout << "sy-controller " << SY_VERSION << "\n";
      return 0;
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "--insecure") {
      insecure = true;
    } else if (arg == "--tls-ca" || arg == "--tls-cert" || arg == "--tls-key") {
      std::string& target = arg == "--tls-ca" ? tls_ca : arg == "--tls-cert" ? tls_cert : tls_key;
      if (!value(target)) return usage_error(std::string(arg) + " needs a value");
    } else if (arg == "--config" || arg == "--listen" || arg == "--state-dir" ||
               arg == "--port-file" || arg == "--log-level") {
      std::string& target = arg == "--config"      ? config_path
                            : arg == "--listen"    ? listen
                            : arg == "--state-dir" ? state_dir
                            : arg == "--port-file" ? port_file
                                                   : level;
      if (!value(target)) return usage_error(std::string(arg) + " needs a value");
    } else {
      return usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }

  // The file, then the flags over it: at start and again on every SIGHUP.
  auto load = [&]() -> Result<controller::ControllerConfig, std::string> {
    controller::ControllerConfig config;
    if (!config_path.empty()) {
      auto loaded = controller::load_controller_config(config_path);
      if (!loaded) return fail(loaded.error().to_string());
      config = std::move(loaded).value();
    }
    if (!listen.empty()) {
      auto ep = parse_endpoint(listen, kDefaultControllerPort);
      if (!ep) return fail("--listen: " + ep.error());
      config.listen = ep.value();
    }
    if (!state_dir.empty()) config.state_dir = state_dir;
    if (!level.empty() && !log::parse_level(level, config.log_level)) {
      return fail(std::string("--log-level must be debug, info, warn or error"));
    }
    if (!tls_ca.empty()) config.tls.ca = tls_ca;
    if (!tls_cert.empty()) config.tls.cert = tls_cert;
    if (!tls_key.empty()) config.tls.key = tls_key;
    config.insecure = insecure;
    return config;
  };
  auto loaded = load();
  if (!loaded) {
    std::cerr << "sy-controller: " << loaded.error() << "\n";
    return 2;
  }
  const controller::ControllerConfig config = std::move(loaded).value();
  if (!config.tls.any() && !config.insecure) {
    return usage_error(
        "no TLS certificates: give --tls-ca, --tls-cert and --tls-key (or tls: in the "
        "configuration; scripts/cluster-ca makes them), or --insecure for local development");
  }
  if (check_only) {
    std::cout << (config_path.empty() ? "defaults" : config_path) << ": ok\n";
    return 0;
  }
  controller::RunOptions options{port_file, nullptr};
  if (!config_path.empty()) options.reload = load;
  return controller::run_controller(config, options);
}
