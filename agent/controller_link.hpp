#pragma once
// ControllerLink: the agent's persistent WebSocket to the controller. It registers the node,
// sends heartbeats at the interval the controller asks for, and on any failure (controller
// restarted, connection dropped) reconnects with backoff and registers again.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "common/agent_protocol.hpp"
#include "common/endpoint.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::agent {

class ControllerLink {
 public:
  // What the node's Tier-0 cache holds, asked at every (re-)registration.
  using CacheContents = std::function<std::vector<protocol::CachedDataset>()>;
  ControllerLink(boost::asio::io_context& ioc, Endpoint controller, std::string node,
                 topo::NodeTopology topology, CacheContents cache = {});
  ~ControllerLink();
  void start();
  void stop();  // closes the connection; no more reconnects

  // Orders from the controller (any type but "registered" and "error"), on the link's thread.
  using OrderHandler = std::function<void(const std::string& type, const nlohmann::json& message)>;
  void set_on_order(OrderHandler handler);  // before start()
  // Queues a message for the controller; safe from any thread. Dropped while disconnected (the
  // next registration reports the cache afresh, and the controller fails what it was waiting for).
  void send(nlohmann::json message);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sy::agent
