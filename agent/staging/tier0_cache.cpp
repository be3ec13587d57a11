#include "agent/staging/tier0_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "agent/staging/stage_record.hpp"

namespace sy::staging {
namespace {

namespace fs = std::filesystem;

std::int64_t mtime_ms(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

void touch(const fs::path& p) {
  ::utimensat(AT_FDCWD, p.c_str(), nullptr, 0);
}

}  // namespace

Tier0Cache::Tier0Cache(fs::path root, std::int64_t quota_bytes)
    : root_(std::move(root)), quota_(quota_bytes) {}

fs::path Tier0Cache::path_of(const std::string& name, const std::string& version) const {
  return root_ / (name + "@" + version);
}

Result<void, std::string> Tier0Cache::load() {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return fail(root_.string() + ": " + ec.message());
  const std::scoped_lock lock(mutex_);
  copies_.clear();
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string base = entry.path().filename().string();
    const auto at = base.find('@');
    if (base.starts_with(".") || at == std::string::npos || !entry.is_directory(ec)) continue;
    const StagePaths paths = stage_paths(entry.path());
    const auto record = read_record(paths.record);
    if (!record || record->manifest.name != base.substr(0, at) ||
        record->manifest.version() != base.substr(at + 1)) {
      continue;  // not a finished copy: the stager checks or replaces it when asked
    }
    const Key key{base.substr(0, at), base.substr(at + 1)};
    copies_[key] = {.name = key.first,
                    .version = key.second,
                    .bytes = record->manifest.total_bytes(),
                    .files = static_cast<std::int64_t>(record->manifest.files.size()),
                    .last_used_ms = mtime_ms(paths.record),
                    .pinned = false};
  }
  if (ec) return fail(root_.string() + ": " + ec.message());
  return {};
}

std::vector<CachedCopy> Tier0Cache::list() const {
  const std::scoped_lock lock(mutex_);
  std::vector<CachedCopy> out;
  for (const auto& entry : copies_) {
    // Not a structured binding: clang 14 (the test build's) cannot capture one in a lambda.
    const auto& key = entry.first;
    CachedCopy c = entry.second;
    c.pinned = std::any_of(pins_.begin(), pins_.end(),
                           [&](const auto& p) { return p.second.contains(key); });
    out.push_back(std::move(c));
  }
  return out;
}

std::int64_t Tier0Cache::used_bytes() const {
  const std::scoped_lock lock(mutex_);
  std::int64_t used = 0;
  for (const auto& [key, copy] : copies_)
    used += copy.bytes;
  for (const auto& [key, bytes] : reserved_)
    used += bytes;
  return used;
}

bool Tier0Cache::pin(const std::string& holder, const std::string& name,
                     const std::string& version) {
  const std::scoped_lock lock(mutex_);
  const auto it = copies_.find({name, version});
  if (it == copies_.end()) return false;
  pins_[holder].insert(it->first);
  mark_used_locked(it->first);
  return true;
}

void Tier0Cache::unpin_all(const std::string& holder) {
  const std::scoped_lock lock(mutex_);
  pins_.erase(holder);
}

std::vector<std::string> Tier0Cache::take_evicted() {
  const std::scoped_lock lock(mutex_);
  return std::exchange(evicted_, {});
}

namespace {
std::string watch_key(const std::pair<std::string, std::string>& key) {
  return key.first + "@" + key.second;
}
}  // namespace

// Last use is the record's mtime, so the LRU order survives restarts (load() reads it back).
void Tier0Cache::mark_used_locked(const Key& key) {
  const fs::path record = stage_paths(path_of(key.first, key.second)).record;
  touch(record);
  copies_.at(key).last_used_ms = mtime_ms(record);
}

void Tier0Cache::apply_events_locked() {
  for (const auto& touched : watch_.drain()) {
    if (touched == "*") {
      untouched_.clear();
      continue;
    }
    const auto at = touched.rfind('@');
    untouched_.erase({touched.substr(0, at), touched.substr(at + 1)});
  }
}

std::optional<Tier0Cache::Untouched> Tier0Cache::untouched(const std::string& name,
                                                           const std::string& version) {
  const std::scoped_lock lock(mutex_);
  apply_events_locked();
  const Key key{name, version};
  const auto it = copies_.find(key);
  if (it == copies_.end() || !untouched_.contains(key) || reserved_.contains(key)) {
    return std::nullopt;
  }
  mark_used_locked(key);
  return Untouched{.bytes = it->second.bytes, .files = it->second.files};
}

void Tier0Cache::remove_copy_locked(const Key& key) {
  watch_.forget(watch_key(key));
  untouched_.erase(key);
  const StagePaths paths = stage_paths(path_of(key.first, key.second));
  std::error_code ec;
  // The record goes first: a copy half removed by a crash is never taken for a verified one.
  fs::remove(paths.record, ec);
  fs::remove_all(paths.dest, ec);
  fs::remove_all(paths.partial, ec);
  fs::remove(paths.journal, ec);
  copies_.erase(key);
  evicted_.push_back(key.first + "@" + key.second);
}

Result<void, StageError> Tier0Cache::make_room_locked(const Key& key, std::int64_t bytes) {
  std::int64_t used = 0;
  for (const auto& [k, copy] : copies_)
    used += copy.bytes;
  for (const auto& [k, b] : reserved_)
    used += b;
  if (used + bytes <= quota_) return {};
  const auto pinned = [&](const Key& k) {
    return std::any_of(pins_.begin(), pins_.end(),
                       [&](const auto& p) { return p.second.contains(k); });
  };
  std::vector<const CachedCopy*> victims;
  std::int64_t freeable = 0;
  for (const auto& [k, copy] : copies_) {
    if (k != key && !pinned(k) && !reserved_.contains(k)) {
      victims.push_back(&copy);
      freeable += copy.bytes;
    }
  }
  if (used - freeable + bytes > quota_) {
    return fail(StageError{
        .kind = StageError::Kind::DiskFull,
        .message = "Tier-0 cache " + root_.string() + " cannot hold " + key.first + " (" +
                   std::to_string(bytes) + " bytes): quota " + std::to_string(quota_) + ", " +
                   std::to_string(used - freeable) + " bytes held by pinned or staging copies"});
  }
  std::sort(victims.begin(), victims.end(), [](const CachedCopy* a, const CachedCopy* b) {
    return a->last_used_ms < b->last_used_ms;
  });
  std::vector<Key> doomed;
  for (const CachedCopy* v : victims) {
    if (used + bytes <= quota_) break;
    used -= v->bytes;
    doomed.push_back({v->name, v->version});
  }
  for (const auto& k : doomed)
    remove_copy_locked(k);
  return {};
}

Result<StageOutcome, StageError> Tier0Cache::stage(const dataset::Manifest& manifest,
                                                   const StagingBackend& source, int parallel,
                                                   const ProgressFn& on_progress,
                                                   const std::atomic<bool>* cancel,
                                                   std::shared_ptr<const StageRecord> record) {
  const Key key{manifest.name, manifest.version()};
  {
    const std::scoped_lock lock(mutex_);
    if (reserved_.contains(key)) {
      return fail(StageError{.kind = StageError::Kind::Refused,
                             .message = key.first + "@" + key.second + " is already being staged"});
    }
    apply_events_locked();
    if (untouched_.contains(key) && copies_.contains(key)) {
      mark_used_locked(key);
      StageOutcome outcome;
      outcome.unchanged = true;
      outcome.files_kept = static_cast<std::int64_t>(manifest.files.size());
      outcome.manifest = manifest;
      return outcome;
    }
    const std::int64_t present = copies_.contains(key) ? copies_[key].bytes : 0;
    if (auto ok = make_room_locked(key, manifest.total_bytes() - present); !ok)
      return fail(ok.error());
    reserved_[key] = manifest.total_bytes() - present;
    // Watched from before its check, so a write during or after the check is seen.
    if (copies_.contains(key)) watch_.watch(watch_key(key), path_of(key.first, key.second));
  }
  StageRequest request{.manifest = manifest,
                       .digests_known = true,
                       .dest = path_of(key.first, key.second),
                       .parallel = parallel,
                       .full_check = false,
                       .max_bytes_per_s = read_limit_,
                       .record = std::move(record)};
  auto outcome = stage_dataset(request, source, on_progress, cancel);
  const std::scoped_lock lock(mutex_);
  reserved_.erase(key);
  untouched_.erase(key);
  if (!outcome) {
    watch_.forget(watch_key(key));
    return outcome;
  }
  // The stage's own writes are in the queue too: they were verified, so they do not count. A
  // new copy is watched from its publication on (nobody else knew its path before).
  apply_events_locked();
  if (watch_.watching(watch_key(key)) || watch_.watch(watch_key(key), request.dest)) {
    untouched_.insert(key);
  }
  copies_[key] = {.name = key.first,
                  .version = key.second,
                  .bytes = manifest.total_bytes(),
                  .files = static_cast<std::int64_t>(manifest.files.size()),
                  .last_used_ms = 0,
                  .pinned = false};
  mark_used_locked(key);
  return outcome;
}

}  // namespace sy::staging
