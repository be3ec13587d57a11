#pragma once
// StagingTracker: the stage orders sent to agents and how each is going, as their reports say.
// In memory: an order outlives neither the controller nor its agent's connection (the agent's
// copy resumes when the order is given again). Thread-safe; time is passed in.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/agent_protocol.hpp"

namespace sy::nodes {

struct StageRequest {
  std::string id, node, dataset, version;
  protocol::StageReport last;  // the agent's latest report; state "sent" before the first
  std::int64_t created_ms = 0, updated_ms = 0;
};

class StagingTracker {
 public:
  // A new order's id (unique within this controller's life).
  std::string start(const std::string& node, const dataset::Manifest& manifest,
                    std::int64_t now_ms);
  // Applies an agent's report; false when it names no order of that node (or one already ended).
  bool update(const std::string& node, const protocol::StageReport& report, std::int64_t now_ms);
  // Every unfinished order of the node fails with `why` (its agent went away).
  void fail_node(const std::string& node, const std::string& why, std::int64_t now_ms);
  std::optional<StageRequest> get(const std::string& id) const;

 private:
  mutable std::mutex mutex_;
  std::int64_t next_ = 1;
  std::map<std::string, StageRequest> requests_;
};

}  // namespace sy::nodes
