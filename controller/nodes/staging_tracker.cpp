#include "controller/nodes/staging_tracker.hpp"

#include <algorithm>

#include "common/units.hpp"

namespace sy::nodes {
namespace {

bool ended(const StageRequest& r) {
  return r.last.state == "done" || r.last.state == "failed";
}

// Finished orders kept for `sy stage` and `sy show` to read: the newest this many.
constexpr std::size_t kKeepEnded = 10000;

}  // namespace

nlohmann::json stage_request_to_json(const StageRequest& r) {
  nlohmann::json j = protocol::stage_report_message(r.last);
  j.erase("type");
  j.erase("cache");
  if (r.last.state == "failed") {
    j.erase("error_kind");
    j.erase("message");
    j["error"] = {{"kind", r.last.error_kind}, {"message", r.last.message}};
  }
  j["node"] = r.node;
  j["dataset"] = r.dataset;
  j["version"] = r.version;
  j["created_time"] = format_utc_ms(r.created_ms);
  j["updated_time"] = format_utc_ms(r.updated_ms);
  return j;
}

std::string StagingTracker::start(const std::string& node, const What& what, std::int64_t now_ms,
                                  std::int64_t job) {
  const std::scoped_lock lock(mutex_);
  const std::string id = "stage-" + std::to_string(next_++);
  StageRequest r;
  r.id = id;
  r.node = node;
  r.dataset = what.dataset;
  r.version = what.version;
  r.last.request = id;
  r.last.state = "sent";
  r.last.bytes_total = what.bytes;
  r.last.files_total = what.files;
  r.created_ms = r.updated_ms = now_ms;
  if (job != 0) r.jobs.insert(job);
  latest_[{node, r.dataset, r.version}] = id;
  requests_[id] = std::move(r);
  if (requests_.size() > kKeepEnded) {
    for (auto it = requests_.begin(); it != requests_.end(); ++it) {
      if (ended(it->second)) {
        const auto key = std::tuple{it->second.node, it->second.dataset, it->second.version};
        if (latest_[key] == it->first) latest_.erase(key);
        requests_.erase(it);
        break;
      }
    }
  }
  return id;
}

void StagingTracker::attach(const std::string& id, std::int64_t job) {
  const std::scoped_lock lock(mutex_);
  const auto it = requests_.find(id);
  if (it != requests_.end()) it->second.jobs.insert(job);
}

std::optional<StageRequest> StagingTracker::latest(const std::string& node,
                                                   const std::string& dataset,
                                                   const std::string& version) const {
  const std::scoped_lock lock(mutex_);
  const auto it = latest_.find({node, dataset, version});
  if (it == latest_.end()) return std::nullopt;
  return requests_.at(it->second);
}

std::vector<StageRequest> StagingTracker::for_job(std::int64_t job) const {
  const std::scoped_lock lock(mutex_);
  std::vector<StageRequest> out;
  for (const auto& [id, r] : requests_) {
    if (r.jobs.contains(job)) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const StageRequest& a, const StageRequest& b) {
    return a.created_ms < b.created_ms;
  });
  return out;
}

bool StagingTracker::update(const std::string& node, const protocol::StageReport& report,
                            std::int64_t now_ms) {
  const std::scoped_lock lock(mutex_);
  const auto it = requests_.find(report.request);
  if (it == requests_.end() || it->second.node != node || ended(it->second)) return false;
  if (report.bytes_copied > it->second.last.bytes_copied) {
    totals_.bytes_copied += report.bytes_copied - it->second.last.bytes_copied;
  }
  if (report.state == "done") ++(report.bytes_copied == 0 ? totals_.cache_hits : totals_.copied);
  if (report.state == "failed") ++totals_.failed;
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
    ++totals_.failed;
    r.last.error_kind = "agent";
    r.last.message = why;
    r.updated_ms = now_ms;
  }
}

StagingTracker::Totals StagingTracker::totals() const {
  const std::scoped_lock lock(mutex_);
  return totals_;
}

std::optional<StageRequest> StagingTracker::get(const std::string& id) const {
  const std::scoped_lock lock(mutex_);
  const auto it = requests_.find(id);
  if (it == requests_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sy::nodes
