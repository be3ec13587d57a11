#pragma once
// FakeFleet: N simulated sy-agents in one process, each its own WebSocket to a real
// sy-controller (plain TCP: the controller runs --insecure), multiplexed on one io_context.
// Each registers with a fixture topology, heartbeats at the interval it is told, answers a
// launch order by reporting the job running and, after the job's duration, ended (exit 0); a
// stop order ends it at once (signal 15). After a lost connection it reconnects with jittered
// back-off and registers again listing what it runs, as the real agent does, under the agent
// instance it was given at start. It counts every launch per job (an order for a job it runs
// already is not one: the real agent ignores it), so a job started twice is seen.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/endpoint.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::bench {

struct FleetOptions {
  Endpoint controller;
  int nodes = 100;
  std::string name_prefix = "sim";
  topo::NodeTopology topology;
  // A job runs for a duration drawn from [min, max] (by its id: the same job, the same length).
  std::int64_t min_duration_ms = 1000, max_duration_ms = 1000;
  int connects_per_s = 0;  // 0: all at once
  // The first N launch orders the fleet receives are lost: the agent drops its connection
  // without acting on the order and registers again, as the same agent process (the order must
  // come again) or, `lost_as_restart`, as a new one (the job is lost).
  int lose_launches = 0;
  bool lost_as_restart = false;
};

struct FleetCounts {
  std::int64_t registered_nodes = 0;  // nodes whose latest connection is registered
  std::int64_t registrations = 0;     // every registration, reconnections included
  std::int64_t launches = 0;
  std::int64_t launched_twice = 0;  // a second launch of a job this fleet already ran or runs
  std::int64_t running = 0;
  std::int64_t ended = 0;
  std::int64_t stopped = 0;
  std::int64_t refused_messages = 0;  // errors the controller sent
  std::int64_t lost_launches = 0;     // orders dropped with their connection (lose_launches)
};

class FakeFleet {
 public:
  explicit FakeFleet(FleetOptions options);
  ~FakeFleet();
  void start();  // connects every node (at connects_per_s) on its own threads
  void stop();
  FleetCounts counts() const;
  // When the launch of `job` reached its node (steady clock), if it has.
  std::optional<std::chrono::steady_clock::time_point> launched_at(std::int64_t job) const;

 private:
  struct Agent;
  FleetOptions options_;
  boost::asio::io_context ioc_;
  std::vector<std::shared_ptr<Agent>> agents_;
  std::vector<std::thread> threads_;
  mutable std::mutex mutex_;
  std::map<std::int64_t, std::chrono::steady_clock::time_point> launched_at_;
  std::map<std::int64_t, int> launches_;
  std::atomic<std::int64_t> registered_{0}, registrations_{0}, running_{0}, ended_{0}, stopped_{0},
      refused_{0}, lost_{0};
  friend struct Agent;
};

}  // namespace sy::bench
