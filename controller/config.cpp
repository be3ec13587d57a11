#include "controller/config.hpp"

#include <utility>

#include "common/changed_settings.hpp"
#include "common/document.hpp"
#include "common/schema_validator.hpp"
#include "common/unit_fields.hpp"

namespace sy::controller {

Result<ControllerConfig, SpecError> load_controller_config(const std::string& path) {
  auto doc = load_yaml_file(path);
  if (!doc) return fail(std::move(doc).error());
  static const auto schema = SchemaValidator::builtin("controller-config.schema.json");
  if (auto valid = schema->validate(doc.value()); !valid) return fail(std::move(valid).error());
  const nlohmann::json& j = doc->root();
  ControllerConfig c;
  if (j.contains("listen")) {
    auto ep = parse_endpoint(j["listen"].get<std::string>(), kDefaultControllerPort);
    if (!ep) return fail(doc->error_at("listen", ep.error()));
    c.listen = ep.value();
  }
  if (j.contains("state_dir")) c.state_dir = j["state_dir"].get<std::string>();
  if (j.contains("log_level")) log::parse_level(j["log_level"].get<std::string>(), c.log_level);
  if (j.contains("http")) {
    c.max_body_bytes = j["http"].value("max_body_bytes", c.max_body_bytes);
    c.idle_timeout_s = j["http"].value("idle_timeout_s", c.idle_timeout_s);
  }
  if (j.contains("store")) {
    c.max_batch = j["store"].value("max_batch", c.max_batch);
    const auto& keep =
        j["store"].contains("keep_ended_jobs") ? j["store"]["keep_ended_jobs"] : nlohmann::json();
    if (keep.is_string() && keep.get<std::string>() == "forever") {
      c.keep_ended_jobs_ms = 0;
    } else if (!keep.is_null()) {
      auto secs = duration_field_s(doc.value(), keep, "store.keep_ended_jobs");
      if (!secs) return fail(std::move(secs).error());
      c.keep_ended_jobs_ms = secs.value() * 1000;
    }
  }
  if (j.contains("cluster_network"))
    c.cluster_network_path = j["cluster_network"].get<std::string>();
  if (j.contains("nodes")) {
    c.heartbeat_interval_ms = j["nodes"].value("heartbeat_interval_ms", c.heartbeat_interval_ms);
    c.heartbeat_timeout_ms = j["nodes"].value("heartbeat_timeout_ms", c.heartbeat_timeout_ms);
    c.recovery_per_node_ms = j["nodes"].value("recovery_per_node_ms", c.recovery_per_node_ms);
  }
  if (j.contains("scheduler")) {
    const auto& s = j["scheduler"];
    c.scheduler_profile = s.value("profile", c.scheduler_profile);
    c.backfill_depth = s.value("backfill_depth", c.backfill_depth);
    // Durations in the file are read in seconds and kept in milliseconds.
    for (auto [key, target] : {std::pair{"default_time_limit", &c.default_time_limit_ms},
                               std::pair{"fair_share_half_life", &c.fair_share_half_life_ms},
                               std::pair{"staging_horizon", &c.staging_horizon_ms}}) {
      if (!s.contains(key)) continue;
      auto secs = duration_field_s(doc.value(), s[key], std::string("scheduler.") + key);
      if (!secs) return fail(std::move(secs).error());
      *target = secs.value() * 1000;
    }
    if (s.contains("weights")) c.scorer_weights = s["weights"].get<std::map<std::string, int>>();
    if (s.contains("staging_bandwidth")) {
      auto mib = size_field_mib(doc.value(), s["staging_bandwidth"], "scheduler.staging_bandwidth",
                                kMaxStorageSizeMib);
      if (!mib) return fail(std::move(mib).error());
      c.staging_bytes_per_s = static_cast<double>(mib.value()) * 1024 * 1024;
    }
  }
  if (j.contains("tls")) {
    c.tls = {j["tls"]["ca"].get<std::string>(), j["tls"]["cert"].get<std::string>(),
             j["tls"]["key"].get<std::string>()};
  }
  if (j.contains("auth")) {
    const auto& a = j["auth"];
    if (a.contains("admins")) c.admins = a["admins"].get<std::set<std::string>>();
    c.local_socket = a.value("local_socket", c.local_socket);
    c.munge = a.value("munge", c.munge);
    c.munge_socket = a.value("munge_socket", c.munge_socket);
  }
  if (c.heartbeat_timeout_ms <= c.heartbeat_interval_ms) {
    return fail(
        doc->error_at("nodes.heartbeat_timeout_ms", "must be longer than heartbeat_interval_ms"));
  }
  return c;
}

std::vector<std::string> settings_needing_restart(const ControllerConfig& a,
                                                  const ControllerConfig& b) {
  return changed_settings({
      {"listen", a.listen.to_string() != b.listen.to_string()},
      {"state_dir", a.state_dir != b.state_dir},
      {"http.max_body_bytes", a.max_body_bytes != b.max_body_bytes},
      {"http.idle_timeout_s", a.idle_timeout_s != b.idle_timeout_s},
      {"store.max_batch", a.max_batch != b.max_batch},
      {"cluster_network", a.cluster_network_path != b.cluster_network_path},
      {"nodes.heartbeat_interval_ms", a.heartbeat_interval_ms != b.heartbeat_interval_ms},
      {"nodes.heartbeat_timeout_ms", a.heartbeat_timeout_ms != b.heartbeat_timeout_ms},
      {"nodes.recovery_per_node_ms", a.recovery_per_node_ms != b.recovery_per_node_ms},
      {"store.keep_ended_jobs", a.keep_ended_jobs_ms != b.keep_ended_jobs_ms},
      {"scheduler.profile", a.scheduler_profile != b.scheduler_profile},
      {"scheduler.default_time_limit", a.default_time_limit_ms != b.default_time_limit_ms},
      {"scheduler.backfill_depth", a.backfill_depth != b.backfill_depth},
      {"scheduler.fair_share_half_life", a.fair_share_half_life_ms != b.fair_share_half_life_ms},
      {"scheduler.weights", a.scorer_weights != b.scorer_weights},
      {"scheduler.staging_bandwidth", a.staging_bytes_per_s != b.staging_bytes_per_s},
      {"scheduler.staging_horizon", a.staging_horizon_ms != b.staging_horizon_ms},
      {"tls", a.tls.ca != b.tls.ca || a.tls.cert != b.tls.cert || a.tls.key != b.tls.key},
      {"auth.local_socket", a.local_socket != b.local_socket},
      {"auth.munge", a.munge != b.munge},
      {"auth.munge_socket", a.munge_socket != b.munge_socket},
  });
}

}  // namespace sy::controller
