#include "common/agent_protocol.hpp"

#include <regex>

#include "common/topology/topology_file.hpp"

namespace sy::protocol {

nlohmann::json register_message(const std::string& node, const topo::NodeTopology& topology) {
  return {{"type", "register"},
          {"node", node},
          {"agent_version", SY_VERSION},
          {"topology", topo::node_topology_to_json(topology)}};
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
  return r;
}

}  // namespace sy::protocol
