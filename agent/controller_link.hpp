#pragma once
// ControllerLink: the agent's persistent WebSocket to the controller. It registers the node,
// sends heartbeats at the interval the controller asks for, and on any failure (controller
// restarted, connection dropped) reconnects with jittered backoff and registers again. Over TLS it
// checks the controller's certificate and shows its own (the node's name is its common name).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "common/agent_protocol.hpp"
#include "common/endpoint.hpp"
#include "common/tls.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::agent {

class ControllerLink {
 public:
  // What the node's Tier-0 cache holds and how its jobs stand, asked at every (re-)registration.
  struct State {
    std::vector<protocol::CachedDataset> datasets;
    std::vector<protocol::JobReport> jobs;
  };
  using StateFn = std::function<State()>;
  // `tls` null: plain TCP (--insecure); else TLS with the agent's certificate.
  ControllerLink(boost::asio::io_context& ioc, Endpoint controller, tls::Context tls,
                 std::string node, topo::NodeTopology topology, StateFn state = {});
  ~ControllerLink();
  void start();
  void stop();  // closes the connection; no more reconnects

  // Orders from the controller (any type but "registered" and "error"), on the link's thread.
  using OrderHandler = std::function<void(const std::string& type, const nlohmann::json& message)>;
  void set_on_order(OrderHandler handler);  // before start()
  // After each registration is acknowledged, on the link's thread: what was sent between the
  // state's snapshot for the registration and now was dropped, so send it again.
  void set_on_registered(std::function<void()> f);  // before start()
  // Queues a message for the controller; safe from any thread. Dropped while disconnected (the
  // next registration reports the cache and the jobs afresh).
  void send(nlohmann::json message);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sy::agent
