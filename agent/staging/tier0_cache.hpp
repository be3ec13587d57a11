#pragma once
// The node's dataset cache on local NVMe ("Tier-0"): one published copy per dataset version at
// ROOT/NAME@VERSION (the stager's layout), a byte quota, least-recently-used eviction, and pins:
// a copy that a starting or running job uses is never evicted. Last use is the mtime of the
// copy's record file, so the order survives agent restarts. Thread-safe; stages run outside the
// lock, with their bytes reserved while they run.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/staging/copy_watch.hpp"
#include "agent/staging/stager.hpp"

namespace sy::staging {

struct CachedCopy {
  std::string name, version;
  std::int64_t bytes = 0;
  std::int64_t files = 0;
  std::int64_t last_used_ms = 0;
  bool pinned = false;
};

class Tier0Cache {
 public:
  Tier0Cache(std::filesystem::path root, std::int64_t quota_bytes);

  // Reads the published copies under the root (creating it if needed).
  Result<void, std::string> load();
  std::vector<CachedCopy> list() const;  // by name, then version
  std::int64_t used_bytes() const;
  std::int64_t quota_bytes() const { return quota_; }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path path_of(const std::string& name, const std::string& version) const;

  // Stages read no faster than this from their source (0: no limit).
  void set_read_limit(std::int64_t bytes_per_s) { read_limit_ = bytes_per_s; }

  // Pins are per holder (a job id): a copy stays while any holder pins it. Pinning marks the
  // copy used; false (and nothing pinned) when the cache holds no verified copy of it.
  bool pin(const std::string& holder, const std::string& name, const std::string& version);
  void unpin_all(const std::string& holder);

  // Stages the manifest's version into the cache (a no-op check when it is already there),
  // evicting unpinned copies, least recently used first, to fit it under the quota; marks it
  // used. Fails with DiskFull, before copying anything, when pinned copies leave no room.
  Result<StageOutcome, StageError> stage(const dataset::Manifest& manifest,
                                         const StagingBackend& source, int parallel,
                                         const ProgressFn& on_progress,
                                         const std::atomic<bool>* cancel,
                                         std::shared_ptr<const StageRecord> record = nullptr);
  // A copy verified in this agent's lifetime and untouched since (CopyWatch): checking it costs
  // nothing more. Marks it used. nullopt when it must be checked file by file (stage()).
  struct Untouched {
    std::int64_t bytes = 0, files = 0;
  };
  std::optional<Untouched> untouched(const std::string& name, const std::string& version);

  // Names of the copies evicted so far and not yet reported (the agent tells the controller).
  std::vector<std::string> take_evicted();

 private:
  using Key = std::pair<std::string, std::string>;  // name, version
  Result<void, StageError> make_room_locked(const Key& key, std::int64_t bytes);
  void remove_copy_locked(const Key& key);
  void apply_events_locked();
  void mark_used_locked(const Key& key);

  std::filesystem::path root_;
  std::int64_t quota_;
  std::atomic<std::int64_t> read_limit_{0};
  mutable std::mutex mutex_;
  std::map<Key, CachedCopy> copies_;
  std::map<Key, std::int64_t> reserved_;  // stages in flight
  std::map<std::string, std::set<Key>> pins_;
  std::vector<std::string> evicted_;
  CopyWatch watch_;
  std::set<Key> untouched_;  // verified while watched, no event since
};

}  // namespace sy::staging
