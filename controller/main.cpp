// sy-controller: the Switchyard controller daemon.
#include <malloc.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "common/log.hpp"
#include "controller/command_line.hpp"
#include "controller/config.hpp"
#include "controller/controller.hpp"

namespace {

int usage_error(const std::string& message) {
  std::cerr << "sy-controller: " << message << "\n(see sy-controller --help)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sy;
  controller::ControllerCommandLine cl;
  if (const auto stop = command_line::parse(cl.app, argc, argv)) return *stop;
  // Each scheduling pass builds its snapshot in a few large blocks (80,000 allocations at scale)
  // and frees them: by default glibc hands the heap's top back to the kernel after a pass and
  // faults it in again for the next (a fifth of a live pass's time). The heap keeps its
  // high-water mark instead.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  const std::string &config_path = cl.config_path, &listen = cl.listen, &state_dir = cl.state_dir,
                    &port_file = cl.port_file, &level = cl.log_level, &tls_ca = cl.tls_ca,
                    &tls_cert = cl.tls_cert, &tls_key = cl.tls_key;
  const bool check_only = cl.check_only, insecure = cl.insecure;

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
