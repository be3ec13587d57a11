#include "controller/api/node_api.hpp"

#include <algorithm>
#include <bit>
#include <memory>

#include "common/agent_protocol.hpp"
#include "common/topology/topology_file.hpp"
#include "common/units.hpp"

namespace sy::api {

nlohmann::json node_view_to_json(const nodes::NodeView& n, int allocated, bool with_topology) {
  nlohmann::json j{{"name", n.name},
                   {"state", nodes::node_state_name(n.state)},
                   {"reason", n.reason.empty() && n.awaiting_registration
                                  ? "awaiting its agent after a controller restart"
                                  : n.reason},
                   {"gpus", n.topology->gpu_count()},
                   {"gpus_free", std::max(0, n.topology->gpu_count() - allocated)},
                   {"leaf", n.leaf.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.leaf)},
                   {"spine", n.spine.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.spine)},
                   {"agent_version", n.agent_version},
                   {"registered_time", format_utc_ms(n.registered_ms)},
                   {"last_heard_time", format_utc_ms(n.last_heard_ms)}};
  if (with_topology) j["topology"] = topo::node_topology_to_json(*n.topology);
  return j;
}

std::map<std::string, GpuCount> NodeApi::allocated() {
  std::map<std::string, GpuCount> out;
  std::lock_guard<std::mutex> lock(reads_mutex_);
  auto rows = reads_.allocations();
  if (!rows) return out;  // shown as free; the error is logged where writes fail
  for (const auto& a : rows.value())
    out[a.node] += std::popcount(a.gpus);
  return out;
}

NodeApi::NodeApi(store::CommitQueue& writes, store::JobStore& reads, nodes::NodeRegistry& registry,
                 Clock now_ms)
    : writes_(writes), reads_(reads), registry_(registry), now_ms_(std::move(now_ms)) {}

void NodeApi::handle(ApiRequest request, Responder respond) {
  const std::string& path = request.path;
  if (path == "/v1/nodes") {
    if (request.method != "GET")
      return respond(error_response(405, "method_not_allowed", "use GET"));
    auto held = allocated();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : registry_.list())
      out.push_back(node_view_to_json(n, held[n.name], false));
    return respond({200, {{"nodes", std::move(out)}}});
  }
  std::string rest = path.substr(std::string("/v1/nodes/").size());
  std::string action;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    action = rest.substr(slash + 1);
    rest.resize(slash);
  }
  if (!protocol::valid_node_name(rest)) {
    return respond(
        error_response(400, "bad_node_name", "'" + rest + "' is not a node name", "name"));
  }
  if (action.empty()) {
    if (request.method != "GET")
      return respond(error_response(405, "method_not_allowed", "use GET"));
    auto node = registry_.get(rest);
    if (!node)
      return respond(error_response(404, "not_found", "node " + rest + " is not registered"));
    return respond({200, node_view_to_json(*node, allocated()[rest], true)});
  }
  if (action != "drain" && action != "resume") {
    return respond(
        error_response(404, "no_such_endpoint", "no endpoint " + request.method + " " + path));
  }
  if (request.method != "POST")
    return respond(error_response(405, "method_not_allowed", "use POST"));
  if (auto refused = admins_only(request, action + " nodes")) return respond(std::move(*refused));
  set_drain(request, rest, action == "drain", std::move(respond));
}

void NodeApi::set_drain(const ApiRequest& request, const std::string& name, bool drain,
                        Responder respond) {
  auto asking = requesting_user(request);
  if (!asking) return respond(asking.error());
  const std::string user = asking.value();
  std::string reason;
  if (drain) {
    reason = "drained by " + user;
    if (!request.body.empty()) {
      auto body = nlohmann::json::parse(request.body, nullptr, false);
      if (!body.is_object() || (body.contains("reason") && !body["reason"].is_string()) ||
          body.size() > (body.contains("reason") ? 1u : 0u)) {
        return respond(error_response(400, "bad_body", "the body may only be {\"reason\": \"...\"}",
                                      "reason"));
      }
      if (body.contains("reason")) reason = body["reason"].get<std::string>().substr(0, 256);
    }
  }
  if (!registry_.get(name)) {
    return respond(error_response(404, "not_found", "node " + name + " is not registered"));
  }
  const std::int64_t now = now_ms_();
  writes_.submit(
      [name, drain, reason, now](store::Stores& s) {
        return s.nodes.set_drain(name, drain, reason, now);
      },
      [this, name, drain, reason, respond = std::move(respond)](Result<void, store::StoreError> r) {
        if (!r) {
          return respond(r.error().code == store::StoreError::Code::not_found
                             ? error_response(404, "not_found", r.error().message)
                             : error_response(500, "internal", r.error().message));
        }
        registry_.set_drain(name, drain, reason);
        if (on_change_) on_change_();
        respond({200, node_view_to_json(*registry_.get(name), allocated()[name], false)});
      });
}

}  // namespace sy::api
