#pragma once
// The messages between sy-agent and sy-controller on their WebSocket (one JSON object per
// text message, "type" says which). Both sides build and read them only through this file.
//
//   agent -> controller  {"type":"register","node":N,"agent_version":V,"topology":{...},
//                         "datasets":[{"name":D,"version":V,"bytes":B}, ...]}  (its Tier-0 cache)
//                        {"type":"heartbeat","seq":K}
//   controller -> agent  {"type":"registered","node":N,"heartbeat_interval_ms":I}
//                        {"type":"error","message":M}   (then the controller closes)

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::protocol {

inline constexpr const char* kAgentPath = "/v1/agents/connect";

// A dataset version held whole and verified in a node's Tier-0 cache.
struct CachedDataset {
  std::string name;
  std::string version;
  std::int64_t bytes = 0;
};

nlohmann::json register_message(const std::string& node, const topo::NodeTopology& topology,
                                const std::vector<CachedDataset>& datasets = {});
nlohmann::json heartbeat_message(std::int64_t seq);
nlohmann::json registered_message(const std::string& node, std::int64_t heartbeat_interval_ms);
nlohmann::json error_message(const std::string& message);

struct Register {
  std::string node;
  std::string agent_version;
  topo::NodeTopology topology;
  std::vector<CachedDataset> datasets;
};

// The message's type, or an error if it is not a JSON object with a string "type".
Result<std::string, std::string> message_type(const nlohmann::json& message);
// Checks a register message completely (node name syntax, topology against its schema).
Result<Register, std::string> read_register(const nlohmann::json& message);

// Node names: what a host name may be.
bool valid_node_name(const std::string& name);

}  // namespace sy::protocol
