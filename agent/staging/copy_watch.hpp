#pragma once
// CopyWatch: inotify watches on every directory of the published copies in the Tier-0 cache, so
// the cache knows which copies nobody has written to, renamed, removed or chmod'ed since they
// were last verified. Such a copy is checked by its record alone (a manifest check, O(1)) while
// the agent runs; a touched copy, or any copy after an agent restart or an event queue overflow,
// gets the stat walk again. Reads are not watched. Writes through a shared writable mmap are not
// reported by inotify; staged files are read-only (0444), so only root could make one.

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "agent/staging/beneath.hpp"

namespace sy::staging {

class CopyWatch {
 public:
  CopyWatch();  // without inotify (fd limit, no kernel support) nothing is ever trusted
  // Watches every directory under `root` for the copy named `key`; false (and nothing watched)
  // when it cannot, e.g. past fs.inotify.max_user_watches.
  bool watch(const std::string& key, const std::filesystem::path& root);
  void forget(const std::string& key);
  bool watching(const std::string& key) const { return watches_.contains(key); }
  // Every event queued so far: the keys of the copies touched. "*" when events were lost.
  std::set<std::string> drain();

 private:
  Fd fd_;
  std::map<int, std::string> key_of_;             // watch descriptor -> copy
  std::map<std::string, std::set<int>> watches_;  // copy -> its watch descriptors
};

}  // namespace sy::staging
