#pragma once
// ControllerConfig: sy-controller's settings, read from YAML
// (schemas/controller-config.schema.json) and overridden by flags. docs/configuration.md is the
// reference.

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/endpoint.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "common/spec_error.hpp"
#include "common/tls.hpp"

namespace sy::controller {

struct ControllerConfig {
  Endpoint listen{"127.0.0.1", kDefaultControllerPort};
  std::string state_dir = "/var/lib/switchyard";
  log::Level log_level = log::Level::info;
  std::size_t max_body_bytes = 1 << 20;
  int idle_timeout_s = 60;
  std::size_t max_batch = 1024;
  // Retention (runtime/retention.hpp); 0: forever.
  std::int64_t keep_ended_jobs_ms = 30LL * 24 * 3600 * 1000;
  std::string cluster_network_path;  // empty: no switch tree
  std::int64_t heartbeat_interval_ms = 5000;
  std::int64_t heartbeat_timeout_ms = 30000;
  // After a restart the whole fleet registers again at once: its nodes are not declared DOWN
  // for heartbeat_timeout_ms plus this much per known node (10,000 nodes: 130 s).
  std::int64_t recovery_per_node_ms = 10;
  std::string scheduler_profile = "switchyard";
  std::int64_t default_time_limit_ms = 3600 * 1000;
  int backfill_depth = 1000;
  std::int64_t fair_share_half_life_ms = 7LL * 24 * 3600 * 1000;
  std::map<std::string, int> scorer_weights;
  double staging_bytes_per_s = 1024.0 * 1024 * 1024;
  std::int64_t staging_horizon_ms = 600 * 1000;
  tls::Files tls;
  bool insecure = false;     // plain TCP, X-Sy-User believed: local development only
  std::string local_socket;  // empty: STATE_DIR/sy.sock; "none": no local socket
  bool munge = true;
  std::string munge_socket;
  std::set<std::string> admins;
};

// Reads and validates `path`; unset fields keep their defaults.
Result<ControllerConfig, SpecError> load_controller_config(const std::string& path);

// The settings (as named in the file) that differ between `running` and `next` and take effect
// only on a restart: a reload (SIGHUP) applies log_level and auth.admins.
std::vector<std::string> settings_needing_restart(const ControllerConfig& running,
                                                  const ControllerConfig& next);

}  // namespace sy::controller
