#include "common/agent_protocol.hpp"

#include <cstdio>
#include <random>
#include <regex>

#include "common/dataset/manifest.hpp"
#include "common/topology/topology_file.hpp"

namespace sy::protocol {

namespace {

nlohmann::json cache_to_json(const std::vector<CachedDataset>& datasets) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : datasets)
    out.push_back({{"name", d.name}, {"version", d.version}, {"bytes", d.bytes}});
  return out;
}

}  // namespace

nlohmann::json register_message(const std::string& node, const std::string& instance,
                                const topo::NodeTopology& topology,
                                const std::vector<CachedDataset>& datasets,
                                const std::vector<JobReport>& jobs) {
  nlohmann::json reports = nlohmann::json::array();
  for (const auto& j : jobs)
    reports.push_back(job_report_message(j));
  return {{"type", "register"},
          {"node", node},
          {"agent_version", SY_VERSION},
          {"instance", instance},
          {"topology", topo::node_topology_to_json(topology)},
          {"datasets", cache_to_json(datasets)},
          {"jobs", std::move(reports)}};
}

std::string new_agent_instance() {
  std::random_device random;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    char word[9];
    std::snprintf(word, sizeof word, "%08x", random());
    out += word;
  }
  return out;
}

nlohmann::json heartbeat_message(std::int64_t seq) {
  return {{"type", "heartbeat"}, {"seq", seq}};
}

nlohmann::json registered_message(const std::string& node, std::int64_t heartbeat_interval_ms) {
  return {{"type", "registered"}, {"node", node}, {"heartbeat_interval_ms", heartbeat_interval_ms}};
}

nlohmann::json error_message(const std::string& message) {
  return {{"type", "error"}, {"message", message}};
}

nlohmann::json drain_message() {
  return {{"type", "drain"}};
}

nlohmann::json stopped_message() {
  return {{"type", "stopped"}};
}

bool valid_node_name(const std::string& name) {
  static const std::regex host("[A-Za-z0-9][A-Za-z0-9.-]{0,62}");
  return std::regex_match(name, host);
}

Result<std::string, std::string> message_type(const nlohmann::json& message) {
  if (!message.is_object() || !message.contains("type") || !message["type"].is_string()) {
    return fail(std::string("a message must be a JSON object with a string \"type\""));
  }
  return message["type"].get<std::string>();
}

namespace {

Result<std::vector<CachedDataset>, std::string> read_cache_list(const nlohmann::json& list,
                                                                const std::string& what) {
  if (!list.is_array()) return fail(what + ": must be an array");
  std::vector<CachedDataset> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& d = list[i];
    const std::string at = what + "[" + std::to_string(i) + "]";
    if (!d.is_object() || !d.contains("name") || !d["name"].is_string() ||
        !dataset::valid_dataset_name(d["name"].get<std::string>())) {
      return fail(at + ".name: must be a dataset name");
    }
    if (!d.contains("version") || !d["version"].is_string() ||
        !dataset::parse_digest_hex(d["version"].get<std::string>())) {
      return fail(at + ".version: must be 16 hex digits");
    }
    if (!d.contains("bytes") || !d["bytes"].is_number_integer() ||
        d["bytes"].get<std::int64_t>() < 0) {
      return fail(at + ".bytes: must be a whole number >= 0");
    }
    out.push_back({.name = d["name"].get<std::string>(),
                   .version = d["version"].get<std::string>(),
                   .bytes = d["bytes"].get<std::int64_t>()});
  }
  return out;
}

}  // namespace

Result<Register, std::string> read_register(const nlohmann::json& m) {
  Register r;
  if (!m.contains("node") || !m["node"].is_string() ||
      !valid_node_name(m["node"].get<std::string>())) {
    return fail(std::string("register: \"node\" must be a host name"));
  }
  r.node = m["node"].get<std::string>();
  if (m.contains("agent_version") && m["agent_version"].is_string()) {
    r.agent_version = m["agent_version"].get<std::string>();
  }
  if (m.contains("instance")) {
    static const std::regex instance("[A-Za-z0-9-]{1,64}");
    if (!m["instance"].is_string() ||
        !std::regex_match(m["instance"].get<std::string>(), instance)) {
      return fail(std::string("register: \"instance\" must be 1-64 letters, digits or '-'"));
    }
    r.instance = m["instance"].get<std::string>();
  }
  if (!m.contains("topology")) return fail(std::string("register: \"topology\" is required"));
  auto topology =
      topo::node_topology_from_document(Document::from_value(m["topology"], "topology"));
  if (!topology) return fail("register: " + topology.error().to_string());
  r.topology = std::move(topology).value();
  r.topology.name = r.node;
  if (m.contains("datasets")) {
    auto cache = read_cache_list(m["datasets"], "register: datasets");
    if (!cache) return fail(cache.error());
    r.datasets = std::move(cache).value();
  }
  if (m.contains("jobs")) {
    if (!m["jobs"].is_array()) return fail(std::string("register: jobs: must be an array"));
    for (const auto& j : m["jobs"]) {
      auto report = read_job_report(j);
      if (!report) return fail("register: jobs: " + report.error());
      r.jobs.push_back(std::move(report).value());
    }
  }
  return r;
}

}  // namespace sy::protocol

namespace sy::protocol {

nlohmann::json stage_order_message(const StageOrder& order) {
  nlohmann::json m{{"type", "stage"},
                   {"request", order.request},
                   {"source", order.source},
                   {"dataset", order.dataset},
                   {"version", order.version}};
  if (order.manifest) m["manifest"] = dataset::to_json(*order.manifest);
  if (order.manifest_files) m["manifest_files"] = *order.manifest_files;
  return m;
}

Result<StageOrder, std::string> read_stage_order(const nlohmann::json& m) {
  if (!m.contains("request") || !m["request"].is_string() ||
      m["request"].get<std::string>().empty()) {
    return fail(std::string("stage: \"request\" must be a non-empty string"));
  }
  if (!m.contains("source") || !m["source"].is_string()) {
    return fail(std::string("stage: \"source\" must be a string"));
  }
  StageOrder order{.request = m["request"].get<std::string>(),
                   .source = m["source"].get<std::string>(),
                   .dataset = "",
                   .version = "",
                   .manifest = std::nullopt,
                   .manifest_files = std::nullopt};
  if (m.contains("manifest")) {
    auto manifest = dataset::manifest_from_json(m["manifest"]);
    if (!manifest) return fail("stage: manifest: " + manifest.error());
    order.dataset = manifest->name;
    order.version = manifest->version();
    order.manifest = std::move(manifest).value();
    return order;
  }
  if (!m.contains("dataset") || !m["dataset"].is_string() ||
      !dataset::valid_dataset_name(m["dataset"].get<std::string>())) {
    return fail(std::string("stage: \"dataset\" must be a dataset name"));
  }
  if (!m.contains("version") || !m["version"].is_string() ||
      !dataset::parse_digest_hex(m["version"].get<std::string>())) {
    return fail(std::string("stage: \"version\" must be 16 hex digits"));
  }
  order.dataset = m["dataset"].get<std::string>();
  order.version = m["version"].get<std::string>();
  if (m.contains("manifest_files")) {
    if (!m["manifest_files"].is_number_integer() || m["manifest_files"].get<std::int64_t>() < 0) {
      return fail(std::string("stage: \"manifest_files\" must be a whole number >= 0"));
    }
    order.manifest_files = m["manifest_files"].get<std::int64_t>();
  }
  return order;
}

nlohmann::json manifest_request_message(const ManifestRequest& r) {
  return {{"type", "manifest_request"},
          {"request", r.request},
          {"dataset", r.dataset},
          {"version", r.version},
          {"from", r.from}};
}

Result<ManifestRequest, std::string> read_manifest_request(const nlohmann::json& m) {
  ManifestRequest r;
  if (!m.contains("request") || !m["request"].is_string() ||
      m["request"].get<std::string>().empty()) {
    return fail(std::string("manifest_request: \"request\" must be a non-empty string"));
  }
  r.request = m["request"].get<std::string>();
  if (!m.contains("dataset") || !m["dataset"].is_string() ||
      !dataset::valid_dataset_name(m["dataset"].get<std::string>())) {
    return fail(std::string("manifest_request: \"dataset\" must be a dataset name"));
  }
  r.dataset = m["dataset"].get<std::string>();
  if (!m.contains("version") || !m["version"].is_string() ||
      !dataset::parse_digest_hex(m["version"].get<std::string>())) {
    return fail(std::string("manifest_request: \"version\" must be 16 hex digits"));
  }
  r.version = m["version"].get<std::string>();
  if (!m.contains("from") || !m["from"].is_number_integer() || m["from"].get<std::int64_t>() < 0) {
    return fail(std::string("manifest_request: \"from\" must be a whole number >= 0"));
  }
  r.from = m["from"].get<std::int64_t>();
  return r;
}

nlohmann::json manifest_chunk_message(const ManifestChunk& c) {
  nlohmann::json m{{"type", "manifest_chunk"}, {"request", c.request}};
  if (!c.error.empty()) {
    m["error"] = c.error;
    return m;
  }
  m["from"] = c.from;
  m["total"] = c.total;
  m["files"] = c.files;
  return m;
}

Result<ManifestChunk, std::string> read_manifest_chunk(const nlohmann::json& m) {
  ManifestChunk c;
  if (!m.contains("request") || !m["request"].is_string()) {
    return fail(std::string("manifest_chunk: \"request\" must be a string"));
  }
  c.request = m["request"].get<std::string>();
  if (m.contains("error")) {
    c.error = m.value("error", std::string("(no reason given)")).substr(0, 4096);
    if (c.error.empty()) c.error = "(no reason given)";
    return c;
  }
  for (auto [key, target] : {std::pair{"from", &c.from}, std::pair{"total", &c.total}}) {
    if (!m.contains(key) || !m[key].is_number_integer() || m[key].get<std::int64_t>() < 0) {
      return fail("manifest_chunk: \"" + std::string(key) + "\" must be a whole number >= 0");
    }
    *target = m[key].get<std::int64_t>();
  }
  if (!m.contains("files") || !m["files"].is_array()) {
    return fail(std::string("manifest_chunk: \"files\" must be an array"));
  }
  c.files = m["files"];
  return c;
}

nlohmann::json stage_report_message(const StageReport& r) {
  nlohmann::json j{{"type", "stage_report"},
                   {"request", r.request},
                   {"state", r.state},
                   {"bytes_done", r.bytes_done},
                   {"bytes_total", r.bytes_total},
                   {"files_done", r.files_done},
                   {"files_total", r.files_total},
                   {"seconds", r.seconds},
                   {"bytes_copied", r.bytes_copied}};
  if (r.state == "failed") {
    j["error_kind"] = r.error_kind;
    j["message"] = r.message;
  }
  if (r.state == "done") j["cache"] = cache_to_json(r.cache);
  return j;
}

Result<StageReport, std::string> read_stage_report(const nlohmann::json& m) {
  StageReport r;
  if (!m.contains("request") || !m["request"].is_string()) {
    return fail(std::string("stage_report: \"request\" must be a string"));
  }
  r.request = m["request"].get<std::string>();
  r.state = m.value("state", std::string());
  if (r.state != "staging" && r.state != "done" && r.state != "failed") {
    return fail(std::string("stage_report: \"state\" must be staging, done or failed"));
  }
  for (auto [key, target] :
       {std::pair{"bytes_done", &r.bytes_done}, std::pair{"bytes_total", &r.bytes_total},
        std::pair{"files_done", &r.files_done}, std::pair{"files_total", &r.files_total},
        std::pair{"bytes_copied", &r.bytes_copied}}) {
    if (!m.contains(key) || !m[key].is_number_integer() || m[key].get<std::int64_t>() < 0) {
      return fail("stage_report: \"" + std::string(key) + "\" must be a whole number >= 0");
    }
    *target = m[key].get<std::int64_t>();
  }
  r.seconds = m.value("seconds", 0.0);
  r.error_kind = m.value("error_kind", std::string());
  r.message = m.value("message", std::string()).substr(0, 4096);
  if (r.state == "done") {
    auto cache = read_cache_list(m.value("cache", nlohmann::json()), "stage_report: cache");
    if (!cache) return fail(cache.error());
    r.cache = std::move(cache).value();
  }
  return r;
}

}  // namespace sy::protocol
