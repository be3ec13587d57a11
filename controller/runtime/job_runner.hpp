#pragma once
// JobRunner: takes each placed job from STAGING to its end. For a STAGING job it orders the
// current version of every dataset the job names onto every node of the job (where a node holds
// it already, the agent only checks its copy), waits for the agents to report them all
// verified, then orders the launch on every node the job runs on (the first only for the
// `none` launcher), each with its ranks; the agents' reports move the job to RUNNING and, once
// every node has reported its end, to COMPLETED or FAILED (the first failing rank says why; an
// mpi job's end is its mpirun's). The first failure on one node stops the job on the others. A
// stage that fails fails the job with the reason (a stage cut short by a lost agent connection
// is ordered again and resumes; a node gone DOWN requeues the job). A job that ends otherwise
// (cancelled) while its processes run is stopped on all its nodes. Exec requests (Open MPI's
// daemons started through `sy-agent rsh`) are passed between the nodes of the job.
//
// It keeps the placed (STAGING and RUNNING) jobs in memory: read once at start, then fed by
// the commit queue's change feed, which names each job whose state a commit moved; only those
// are read again. Nothing polls the jobs table: a sweep over the jobs in memory (every 2 s, and
// when nodes change) checks time limits, nodes gone DOWN and stages that finished.
//
// What it knows in memory (orders sent, launches sent) is rebuilt from the store and the
// agents' registrations after a restart: launches are idempotent on the agent. An agent that
// registers without a job the store says it runs has lost it (the job fails, or is requeued
// when it asked to be) when it is a new agent process; the same process (its instance) never
// received the order, which is sent again: a launch is recorded before its orders leave, and a
// controller killed in between, or a connection dropped, loses the orders, not the job. A RUNNING
// job past its time limit (counted from its launch) is stopped, and fails with that reason. Runs on
// the io thread; inputs from other threads are posted.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/agent_protocol.hpp"
#include "controller/nodes/agent_gateway.hpp"
#include "controller/nodes/node_registry.hpp"
#include "controller/nodes/staging_tracker.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/dataset_store.hpp"
#include "controller/store/job_store.hpp"

namespace sy::runtime {

class JobRunner {
 public:
  using Clock = std::function<std::int64_t()>;
  // `reads` and `datasets` share a read connection used only by the runner.
  // `default_time_limit_ms`: for jobs that give none (the scheduler's default).
  JobRunner(boost::asio::io_context& ioc, store::CommitQueue& writes, store::JobStore& reads,
            store::DatasetStore& datasets, nodes::NodeRegistry& registry,
            nodes::StagingTracker& staging, nodes::AgentGateway& agents, Clock now_ms,
            std::int64_t default_time_limit_ms);

  // Subscribes to the commit queue's change feed and starts the periodic sweep.
  void start();
  void stop();
  ~JobRunner();  // unsubscribes
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;
  void request();  // thread-safe: sweep the placed jobs again soon (nodes changed)
  // From the gateway (any thread).
  void on_job_reports(const std::string& node, const std::vector<protocol::JobReport>& reports,
                      nodes::AgentGateway::Reports kind, std::uint64_t registration);
  // Datasets to copy ahead of the jobs expected to start next: (node, dataset) pairs.
  void prestage(const std::vector<std::pair<std::string, std::string>>& wanted);
  // exec_request and exec_report messages from the gateway (any thread).
  void on_exec_message(const std::string& node, const std::string& type,
                       const nlohmann::json& message);
  // Called after a job changed state here (so the scheduler can use freed GPUs).
  void set_on_change(std::function<void()> f) { on_change_ = std::move(f); }

 private:
  using Versions = std::map<std::string, std::string>;  // dataset -> its current version
  void periodic();
  void drive();                                        // the sweep
  bool load();                                         // the placed jobs from the store, at start
  void refresh(const std::vector<std::int64_t>& ids);  // jobs the change feed named
  // One placed job: its stage orders, its launch, its nodes, its time limit. `current` is read
  // on first need.
  void drive_job(const JobRecord& job, std::optional<Versions>& current);
  // Every registered dataset's current version, by name.
  Result<Versions, store::StoreError> current_versions();
  void drive_staging(const JobRecord& job, const std::vector<std::string>& nodes,
                     const std::map<std::string, std::string>& current);
  // Where a launched job runs and what its nodes reported.
  struct Launch {
    std::vector<std::string> nodes;  // the first node first
    Launcher launcher = Launcher::none;
    // mpirun's or the batch script's end is the job's: the other nodes run what it asks of them.
    bool leader_decides = false;
    std::map<std::string, protocol::JobReport> ended;  // by node
    // The registration whose connection carried the order to each node (AgentGateway::send_to).
    std::map<std::string, std::uint64_t> sent_on;
    std::optional<std::pair<std::string, protocol::JobReport>> first_failure;
    bool stopped = false;  // the others were told to stop
  };
  static Launch launch_of(const JobRecord& job);
  // The launch of a job this runner may not know yet (after a restart): from the store.
  Launch* known_launch(std::int64_t job);
  void launch(const JobRecord& job);
  void stop_everywhere(std::int64_t job, Launch& l, const std::string& reason);
  // Stops what still runs of a launched job that ended here (cancelled); false once it has
  // been asked often enough (the launch is then forgotten).
  bool stop_ended(std::int64_t id, Launch& l);

  void enforce_time_limit(const JobRecord& job, Launch& l);
  // A report from a node that does not hold the job's current run: handled here (the process
  // stopped, or its end acknowledged) and true; false for a report about the current run.
  bool stray(const std::string& node, const protocol::JobReport& r);
  // Drops what the runner remembers of the job's launch (after it ended or was requeued).
  void forget_launch(std::int64_t id);
  void job_ended(const std::string& node, const protocol::JobReport& r);
  void handle_exec(const std::string& node, const std::string& type, const nlohmann::json& m);
  void handle_reports(const std::string& node, const std::vector<protocol::JobReport>& reports,
                      nodes::AgentGateway::Reports kind, std::uint64_t registration);
  // The RUNNING jobs of `node` its registration did not list: lost with a restarted agent, or
  // (`same_agent`) never received: their orders are sent again. An order that went out on the
  // registration's own connection is not judged: it was sent after the list was made.
  void lost_on(const std::string& node, const std::set<std::int64_t>& reported, bool same_agent,
               std::uint64_t registration);
  // Whether the job's order to `node` went out on `registration`'s connection or a later one.
  bool sent_since(std::int64_t job, const std::string& node, std::uint64_t registration) const;
  // The launch orders of a job, by node, or nullopt while its first node's address is not known
  // (its agent is away: tried again later).
  using Orders = std::vector<std::pair<std::string, protocol::LaunchOrder>>;
  std::optional<Orders> launch_orders(const JobRecord& job);
  // Sends the job's order again to the nodes in unsent_ for it that are connected.
  void resend(const JobRecord& job);
  bool stopping(std::int64_t id) const;  // its launch was told to stop
  // Applies an event to a job unless it already moved on; then `after` (on the io thread).
  // `ran`: the job's process ran (an end reported before its start was recorded).
  void settle(std::int64_t job, JobEvent event, std::string reason,
              std::optional<int> exit_code = std::nullopt, std::function<void()> after = {},
              bool ran = false);

  boost::asio::io_context& ioc_;
  store::CommitQueue& writes_;
  store::JobStore& reads_;
  store::DatasetStore& datasets_;
  nodes::NodeRegistry& registry_;
  nodes::StagingTracker& staging_;
  nodes::AgentGateway& agents_;
  Clock now_ms_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer delay_;  // a requested sweep, until the minimum interval is up
  std::function<void()> on_change_;
  bool stopped_ = false;
  bool queued_ = false;  // a sweep is due and has not run yet
  // Io thread only:
  std::chrono::steady_clock::time_point last_sweep_{};
  // RUNNING jobs whose launch order a node's agent never received (its connection dropped
  // with the order on the way): the nodes still to send it to.
  std::map<std::int64_t, std::set<std::string>> unsent_;
  bool loaded_ = false;
  std::map<std::int64_t, JobRecord> placed_;  // STAGING and RUNNING jobs, by id
  std::map<std::int64_t, Launch> launched_;   // launch sent; until its end is recorded
  std::set<std::int64_t> settling_;           // an event being committed: do not act twice
  std::map<std::pair<std::int64_t, std::string>, int> resends_;  // (job, node/dataset): count
  std::map<std::int64_t, int> stops_;               // stop orders sent to a job that ended here
  std::map<std::int64_t, std::int64_t> timed_out_;  // job -> when its stop was sent
  std::int64_t default_time_limit_ms_;
  std::map<std::string, std::string> execs_;  // exec request -> the node that asked
};

}  // namespace sy::runtime
