#pragma once
// StagingTracker: the stage orders sent to agents, the jobs waiting for each, and how each is
// going, as their reports say.
// In memory: an order outlives neither the controller nor its agent's connection (the agent's
// copy resumes when the order is given again). Thread-safe; time is passed in.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/agent_protocol.hpp"

namespace sy::nodes {

struct StageRequest {
  std::string id, node, dataset, version;
  std::set<std::int64_t> jobs;  // the jobs waiting for it (none: asked for by hand or ahead)
  protocol::StageReport last;   // the agent's latest report; state "sent" before the first
  std::int64_t created_ms = 0, updated_ms = 0;
};

// An order as the API shows it: the agent's last report with the order's own facts.
nlohmann::json stage_request_to_json(const StageRequest& r);

class StagingTracker {
 public:
  // A new order's id (unique within this controller's life).
  struct What {
    std::string dataset, version;
    std::int64_t bytes = 0, files = 0;
  };
  std::string start(const std::string& node, const What& what, std::int64_t now_ms,
                    std::int64_t job = 0);
  // The job waits for the order too.
  void attach(const std::string& id, std::int64_t job);
  // The newest order for this dataset version on the node.
  std::optional<StageRequest> latest(const std::string& node, const std::string& dataset,
                                     const std::string& version) const;
  // The orders a job waits or waited for, oldest first.
  std::vector<StageRequest> for_job(std::int64_t job) const;
  // Applies an agent's report; false when it names no order of that node (or one already ended).
  bool update(const std::string& node, const protocol::StageReport& report, std::int64_t now_ms);
  // Every unfinished order of the node fails with `why` (its agent went away).
  void fail_node(const std::string& node, const std::string& why, std::int64_t now_ms);
  std::optional<StageRequest> get(const std::string& id) const;

  // Since the controller started: bytes the agents copied (as their reports went), and how the
  // orders ended: with nothing to copy (the node's cache had the copy), copied, failed.
  struct Totals {
    std::int64_t bytes_copied = 0, cache_hits = 0, copied = 0, failed = 0;
  };
  Totals totals() const;

 private:
  Totals totals_;
  mutable std::mutex mutex_;
  std::int64_t next_ = 1;
  std::map<std::string, StageRequest> requests_;
  // (node, dataset, version) -> the newest order's id
  std::map<std::tuple<std::string, std::string, std::string>, std::string> latest_;
};

}  // namespace sy::nodes
