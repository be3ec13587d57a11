#pragma once
// AgentSettings: sy-agent's settings, from its YAML file (schemas/agent-config.schema.json,
// /etc/switchyard/agent.yaml under systemd) and then its flags, which override the file.

#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/spec_error.hpp"
#include "common/tls.hpp"

namespace sy::agent {

struct AgentSettings {
  std::string controller = "127.0.0.1:6820";
  tls::Files tls;
  bool insecure = false;
  std::string topology_file;
  std::string node_name;
  std::string features;  // comma-separated, as the flag takes them
  std::string tier0_dir = "/var/lib/switchyard/tier0";
  std::string tier0_quota;
  std::string stage_bandwidth;
  std::string spool_dir = "/var/lib/switchyard/jobs";
  std::string mpirun = "mpirun";
  std::string cgroup = "auto";
  std::string log_level;
  std::string metrics_listen;  // HOST:PORT for GET /metrics; empty: not served
  bool drain_on_stop = false;
};

// Reads and validates `path` into `settings`; fields the file leaves out keep their values.
Result<void, SpecError> read_agent_config(const std::string& path, AgentSettings& settings);

// The settings (as named in the file) that differ and take effect only on a restart: a reload
// (SIGHUP) applies log_level and stage_bandwidth.
std::vector<std::string> agent_settings_needing_restart(const AgentSettings& running,
                                                        const AgentSettings& next);

}  // namespace sy::agent
