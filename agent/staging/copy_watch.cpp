#include "agent/staging/copy_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

namespace sy::staging {
namespace fs = std::filesystem;
namespace {

constexpr std::uint32_t kChanges = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE |
                                   IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
                                   IN_ONLYDIR | IN_DONT_FOLLOW;

}  // namespace

CopyWatch::CopyWatch() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

bool CopyWatch::watch(const std::string& key, const fs::path& root) {
  forget(key);
  if (!fd_.valid()) return false;
  std::set<int> added;
  const auto add = [&](const fs::path& dir) {
    const int wd = ::inotify_add_watch(fd_.get(), dir.c_str(), kChanges);
    if (wd < 0) return false;
    added.insert(wd);
    key_of_[wd] = key;
    return true;
  };
  bool ok = add(root);
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
       ok && !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) ok = add(it->path());
  }
  watches_[key] = std::move(added);
  if (!ok || ec) {
    forget(key);
    return false;
  }
  return true;
}

void CopyWatch::forget(const std::string& key) {
  const auto it = watches_.find(key);
  if (it == watches_.end()) return;
  for (const int wd : it->second) {
    ::inotify_rm_watch(fd_.get(), wd);
    key_of_.erase(wd);
  }
  watches_.erase(it);
}

std::set<std::string> CopyWatch::drain() {
  std::set<std::string> touched;
  if (!fd_.valid()) return touched;
  alignas(inotify_event) char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: nothing more queued
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if (event->mask & IN_Q_OVERFLOW) {
        touched.insert("*");
        continue;
      }
      const auto key = key_of_.find(event->wd);
      if (key != key_of_.end()) touched.insert(key->second);
    }
  }
  return touched;
}

}  // namespace sy::staging
