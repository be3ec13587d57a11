#pragma once
// ControllerLink: the agent's persistent WebSocket to the controller. It registers the node,
// sends heartbeats at the interval the controller asks for, and on any failure (controller
// restarted, connection dropped) reconnects with backoff and registers again.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

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

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sy::agent
