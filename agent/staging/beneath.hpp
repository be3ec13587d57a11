#pragma once
// Opening files under a directory so that no path can reach outside it: every open resolves
// beneath the directory's fd and refuses symlinks anywhere on the way (openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). Paths are also checked as manifest paths first, so
// "..", absolute paths and symlinks planted in the cache all fail with a message.

#include <string>

#include "common/result.hpp"

namespace sy::staging {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Opens `path` (a checked relative path) beneath `dir_fd` with open(2) `flags` and `mode`.
Result<Fd, std::string> open_beneath(int dir_fd, const std::string& path, int flags, int mode = 0);
// Creates the directory `path` and its parents beneath `dir_fd` (like mkdir -p), refusing a
// symlink or a file where a directory should be.
Result<void, std::string> make_directories_beneath(int dir_fd, const std::string& path);
// Opens a directory given by an absolute path (the cache root) without following a final symlink.
Result<Fd, std::string> open_directory(const std::string& path);

std::string errno_message();

}  // namespace sy::staging
