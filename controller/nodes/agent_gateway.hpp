#pragma once
// AgentGateway: the controller's end of the agents' WebSocket. It registers nodes (persisting
// each registration before acknowledging it), takes heartbeats, and declares a node DOWN when it
// has been silent for longer than the heartbeat timeout. A closed connection alone does not take
// a node down: an agent that restarts quickly should not cost its node its jobs.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "controller/api/websocket.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/nodes/staging_tracker.hpp"
#include "controller/store/commit_queue.hpp"

namespace sy::nodes {

struct GatewayOptions {
  std::int64_t heartbeat_interval_ms = 5000;
  std::int64_t heartbeat_timeout_ms = 30000;
};

class AgentGateway : public api::WebSocketHandler {
 public:
  using Clock = std::function<std::int64_t()>;
  AgentGateway(boost::asio::io_context& ioc, store::CommitQueue& writes, NodeRegistry& registry,
               StagingTracker& staging, GatewayOptions options, Clock now_ms);

  void start();  // begins the liveness checks
  void stop();
  void on_message(const std::shared_ptr<api::WebSocketConnection>& c, std::string text) override;
  void on_closed(const std::shared_ptr<api::WebSocketConnection>& c) override;
  // Called after a node joined, came back, went DOWN or finished staging a dataset.
  void set_on_change(std::function<void()> f) { on_change_ = std::move(f); }
  // How the node's jobs stand: each job_report as it comes (`one`), and the whole list an agent
  // sends when it registers. From the agent process that registered the node last
  // (`same_agent`), a job not in the list never reached it; from a new one (`new_agent`: the
  // agent restarted, or its instance is not known), a job not in it no longer runs there.
  // `registration`: the number of the registration whose list it is (0 for `one`).
  enum class Reports { one, same_agent, new_agent };
  using JobReports =
      std::function<void(const std::string& node, const std::vector<protocol::JobReport>& reports,
                         Reports kind, std::uint64_t registration)>;
  void set_on_job_reports(JobReports f) { on_job_reports_ = std::move(f); }
  // The other messages about jobs (job_output, exec_request, exec_report), checked by whoever
  // handles them; called on the connection's thread.
  using JobMessage = std::function<void(const std::string& node, const std::string& type,
                                        const nlohmann::json& message)>;
  void set_on_job_message(JobMessage f) { on_job_message_ = std::move(f); }
  // manifest_request messages (a stage order's manifest, asked for in slices).
  using ManifestRequested = std::function<void(const std::string& node, protocol::ManifestRequest)>;
  void set_on_manifest_request(ManifestRequested f) { on_manifest_request_ = std::move(f); }
  // The address the node's agent connects from: how the node's peers reach it (MASTER_ADDR).
  std::string address_of(const std::string& node);
  bool connected(const std::string& node);
  // Sends an order to the node's agent. Returns the number of the registration whose connection
  // carries it (registrations are numbered from 1 as they are committed), 0 when the node has no
  // connection: an order sent on a registration's connection is not in that registration's list.
  std::uint64_t send_to(const std::string& node, const nlohmann::json& message);

 private:
  void handle_register(const std::shared_ptr<api::WebSocketConnection>& c, const nlohmann::json& m);
  void handle_heartbeat(const std::shared_ptr<api::WebSocketConnection>& c);
  // "drain" (stopped false) and "stopped" from an agent run with --drain-on-stop.
  void handle_stopping(const std::shared_ptr<api::WebSocketConnection>& c, bool stopped);
  void handle_job_report(const std::shared_ptr<api::WebSocketConnection>& c,
                         const nlohmann::json& m);
  void handle_stage_report(const std::shared_ptr<api::WebSocketConnection>& c,
                           const nlohmann::json& m);
  std::string node_of(const std::shared_ptr<api::WebSocketConnection>& c);
  void check_liveness();
  void refuse(const std::shared_ptr<api::WebSocketConnection>& c, const std::string& why);

  store::CommitQueue& writes_;
  NodeRegistry& registry_;
  StagingTracker& staging_;
  GatewayOptions options_;
  Clock now_ms_;
  boost::asio::steady_timer timer_;
  std::mutex mutex_;
  std::map<const api::WebSocketConnection*, std::string> node_of_;
  struct Registered {
    std::weak_ptr<api::WebSocketConnection> connection;
    std::uint64_t registration = 0;
  };
  std::map<std::string, Registered> connection_of_;
  std::uint64_t registrations_ = 0;
  std::set<std::string> going_down_;  // DOWN being committed: do not queue it twice
  bool stopped_ = false;
  std::function<void()> on_change_;
  JobReports on_job_reports_;
  JobMessage on_job_message_;
  ManifestRequested on_manifest_request_;
};

}  // namespace sy::nodes
