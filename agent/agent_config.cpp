#include "agent/agent_config.hpp"

#include <utility>

#include "common/changed_settings.hpp"
#include "common/comma_list.hpp"
#include "common/document.hpp"
#include "common/schema_validator.hpp"

namespace sy::agent {

Result<void, SpecError> read_agent_config(const std::string& path, AgentSettings& s) {
  auto doc = load_yaml_file(path);
  if (!doc) return fail(std::move(doc).error());
  static const auto schema = SchemaValidator::builtin("agent-config.schema.json");
  if (auto valid = schema->validate(doc.value()); !valid) return fail(std::move(valid).error());
  const nlohmann::json& j = doc->root();
  const std::pair<const char*, std::string*> strings[] = {{"controller", &s.controller},
                                                          {"topology", &s.topology_file},
                                                          {"node_name", &s.node_name},
                                                          {"tier0", &s.tier0_dir},
                                                          {"tier0_quota", &s.tier0_quota},
                                                          {"stage_bandwidth", &s.stage_bandwidth},
                                                          {"spool", &s.spool_dir},
                                                          {"mpirun", &s.mpirun},
                                                          {"cgroup", &s.cgroup},
                                                          {"log_level", &s.log_level},
                                                          {"metrics_listen", &s.metrics_listen}};
  for (const auto& [key, target] : strings) {
    if (j.contains(key)) *target = j[key].get<std::string>();
  }
  if (j.contains("tls")) {
    s.tls = {j["tls"]["ca"].get<std::string>(), j["tls"]["cert"].get<std::string>(),
             j["tls"]["key"].get<std::string>()};
  }
  if (j.contains("insecure")) s.insecure = j["insecure"].get<bool>();
  if (j.contains("drain_on_stop")) s.drain_on_stop = j["drain_on_stop"].get<bool>();
  if (j.contains("features"))
    s.features = join_commas(j["features"].get<std::vector<std::string>>());
  return {};
}

std::vector<std::string> agent_settings_needing_restart(const AgentSettings& a,
                                                        const AgentSettings& b) {
  return changed_settings({
      {"controller", a.controller != b.controller},
      {"tls", a.tls.ca != b.tls.ca || a.tls.cert != b.tls.cert || a.tls.key != b.tls.key},
      {"insecure", a.insecure != b.insecure},
      {"topology", a.topology_file != b.topology_file},
      {"node_name", a.node_name != b.node_name},
      {"features", a.features != b.features},
      {"tier0", a.tier0_dir != b.tier0_dir},
      {"tier0_quota", a.tier0_quota != b.tier0_quota},
      {"spool", a.spool_dir != b.spool_dir},
      {"mpirun", a.mpirun != b.mpirun},
      {"cgroup", a.cgroup != b.cgroup},
      {"drain_on_stop", a.drain_on_stop != b.drain_on_stop},
      {"metrics_listen", a.metrics_listen != b.metrics_listen},
  });
}

}  // namespace sy::agent
