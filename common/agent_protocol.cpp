#include "common/agent_protocol.hpp"

#include <regex>

#include "common/dataset/manifest.hpp"
#include "common/topology/topology_file.hpp"

namespace sy::protocol {

nlohmann::json register_message(const std::string& node, const topo::NodeTopology& topology,
                                const std::vector<CachedDataset>& datasets) {
  nlohmann::json cached = nlohmann::json::array();
  for (const auto& d : datasets) {
    cached.push_back({{"name", d.name}, {"version", d.version}, {"bytes", d.bytes}});
  }
  return {{"type", "register"},
          {"node", node},
          {"agent_version", SY_VERSION},
          {"topology", topo::node_topology_to_json(topology)},
          {"datasets", std::move(cached)}};
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
  if (!m.contains("topology")) return fail(std::string("register: \"topology\" is required"));
  auto topology =
      topo::node_topology_from_document(Document::from_value(m["topology"], "topology"));
  if (!topology) return fail("register: " + topology.error().to_string());
  r.topology = std::move(topology).value();
  r.topology.name = r.node;
  if (m.contains("datasets")) {
    const auto& list = m["datasets"];
    if (!list.is_array()) return fail(std::string("register: \"datasets\" must be an array"));
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& d = list[i];
      const std::string at = "register: datasets[" + std::to_string(i) + "]";
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
      r.datasets.push_back({.name = d["name"].get<std::string>(),
                            .version = d["version"].get<std::string>(),
                            .bytes = d["bytes"].get<std::int64_t>()});
    }
  }
  return r;
}

}  // namespace sy::protocol
