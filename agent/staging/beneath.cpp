#include "agent/staging/beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/dataset/manifest.hpp"

namespace sy::staging {

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

std::string errno_message() {
  return std::strerror(errno);
}

Result<Fd, std::string> open_beneath(int dir_fd, const std::string& path, int flags, int mode) {
  if (auto ok = dataset::check_relative_path(path); !ok)
    return fail("\"" + path + "\" " + ok.error());
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) != 0 ? static_cast<std::uint64_t>(mode) : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return Fd(static_cast<int>(fd));
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == ELOOP || errno == EXDEV) {
      return fail("\"" + path + "\": a symlink on the way or out of the directory; refused");
    }
    return fail("\"" + path + "\": " + errno_message());
  }
}

Result<void, std::string> make_directories_beneath(int dir_fd, const std::string& path) {
  for (std::size_t end = path.find('/');; end = path.find('/', end + 1)) {
    const std::string dir = path.substr(0, end);
    if (auto ok = dataset::check_relative_path(dir); !ok)
      return fail("\"" + dir + "\" " + ok.error());
    // mkdirat does not follow a final symlink; open_beneath below catches one on the way.
    if (::mkdirat(dir_fd, dir.c_str(), 0755) != 0 && errno != EEXIST) {
      if (errno == ENOSPC) return fail("\"" + dir + "\": no space left on device");
      auto probe = open_beneath(dir_fd, dir, O_RDONLY | O_DIRECTORY);
      if (!probe) return fail(probe.error());
      return fail("\"" + dir + "\": " + errno_message());
    }
    auto probe = open_beneath(dir_fd, dir, O_PATH | O_DIRECTORY);
    if (!probe) return fail(probe.error());
    if (end == std::string::npos) return {};
  }
}

Result<Fd, std::string> open_directory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail(path + ": " + errno_message());
  return Fd(fd);
}

}  // namespace sy::staging
