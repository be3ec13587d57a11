#include "controller/nodes/staging_tracker.hpp"

namespace sy::nodes {
namespace {

bool ended(const StageRequest& r) {
  return r.last.state == "done" || r.last.state == "failed";
}

// Finished orders kept for `sy stage` and `sy show` to read: the newest this many.
constexpr std::size_t kKeepEnded = 10000;

}  // namespace

std::string StagingTracker::start(const std::string& node, const dataset::Manifest& manifest,
                                  std::int64_t now_ms) {
  const std::scoped_lock lock(mutex_);
  const std::string id = "stage-" + std::to_string(next_++);
  StageRequest r;
  r.id = id;
  r.node = node;
  r.dataset = manifest.name;
  r.version = manifest.version();
  r.last.request = id;
  r.last.state = "sent";
  r.last.bytes_total = manifest.total_bytes();
  r.last.files_total = static_cast<std::int64_t>(manifest.files.size());
  r.created_ms = r.updated_ms = now_ms;
  requests_[id] = std::move(r);
  if (requests_.size() > kKeepEnded) {
    for (auto it = requests_.begin(); it != requests_.end(); ++it) {
      if (ended(it->second)) {
        requests_.erase(it);
        break;
      }
    }
  }
  return id;
}

bool StagingTracker::update(const std::string& node, const protocol::StageReport& report,
                            std::int64_t now_ms) {
  const std::scoped_lock lock(mutex_);
  const auto it = requests_.find(report.request);
  if (it == requests_.end() || it->second.node != node || ended(it->second)) return false;
  it->second.last = report;
  it->second.last.cache.clear();  // the registry keeps what the node holds
  it->second.updated_ms = now_ms;
  return true;
}

void StagingTracker::fail_node(const std::string& node, const std::string& why,
                               std::int64_t now_ms) {
  const std::scoped_lock lock(mutex_);
  for (auto& [id, r] : requests_) {
    if (r.node != node || ended(r)) continue;
    r.last.state = "failed";
    r.last.error_kind = "agent";
    r.last.message = why;
    r.updated_ms = now_ms;
  }
}

std::optional<StageRequest> StagingTracker::get(const std::string& id) const {
  const std::scoped_lock lock(mutex_);
  const auto it = requests_.find(id);
  if (it == requests_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sy::nodes
