#include "plugins/staging/file_backend.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "common/dataset/chunk_digest.hpp"

namespace sy::staging {
namespace {

namespace fs = std::filesystem;

std::string errno_text() {
  return std::strerror(errno);
}

class PosixSourceFile final : public SourceFile {
 public:
  explicit PosixSourceFile(int fd) : fd_(fd) {}
  ~PosixSourceFile() override { ::close(fd_); }
  PosixSourceFile(const PosixSourceFile&) = delete;
  PosixSourceFile& operator=(const PosixSourceFile&) = delete;

  Result<std::size_t, std::string> read_at(std::int64_t offset,
                                           std::span<std::byte> into) override {
    std::size_t got = 0;
    while (got < into.size()) {
      const ssize_t n = ::pread(fd_, into.data() + got, into.size() - got,
                                static_cast<off_t>(offset + static_cast<std::int64_t>(got)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail("read failed: " + errno_text());
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    return got;
  }

 private:
  int fd_;
};

std::int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

Result<dataset::Manifest, std::string> FileBackend::scan(const std::string& name, bool with_digests,
                                                         int parallel) const {
  dataset::Manifest manifest;
  manifest.name = name;
  struct stat root_st {};
  if (::stat(root_.c_str(), &root_st) != 0) return fail(root_ + ": " + errno_text());
  if (!S_ISDIR(root_st.st_mode)) return fail(root_ + ": not a directory");
  std::error_code ec;
  fs::recursive_directory_iterator it(root_, fs::directory_options::none, ec);
  if (ec) return fail(root_ + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return fail(root_ + ": " + ec.message());
    const fs::path& p = it->path();
    const std::string rel = p.lexically_relative(root_).generic_string();
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return fail(p.string() + ": " + errno_text());
    if (S_ISDIR(st.st_mode)) continue;
    if (S_ISLNK(st.st_mode)) {
      return fail(p.string() + ": is a symlink; datasets hold only regular files and directories");
    }
    if (!S_ISREG(st.st_mode)) return fail(p.string() + ": is not a regular file");
    if (auto ok = dataset::check_relative_path(rel); !ok)
      return fail(p.string() + ": " + ok.error());
    manifest.files.push_back(dataset::FileEntry{.path = rel,
                                                .size = static_cast<std::int64_t>(st.st_size),
                                                .mtime_ns = mtime_ns_of(st),
                                                .digest = 0});
  }
  if (ec) return fail(root_ + ": " + ec.message());
  std::sort(manifest.files.begin(), manifest.files.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  if (!with_digests) return manifest;

  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::string first_error;
  const auto work = [&] {
    std::vector<std::byte> buffer;
    for (std::size_t i = next++; i < manifest.files.size(); i = next++) {
      auto& f = manifest.files[i];
      const std::string full = root_ + "/" + f.path;
      const int fd = ::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      Result<std::uint64_t, std::string> digest =
          fd < 0 ? Result<std::uint64_t, std::string>(fail(errno_text()))
                 : dataset::digest_open_file(fd, f.size, buffer);
      if (fd >= 0) ::close(fd);
      if (!digest) {
        const std::scoped_lock lock(error_mutex);
        if (first_error.empty()) first_error = full + ": " + digest.error();
        next = manifest.files.size();
        return;
      }
      f.digest = digest.value();
    }
  };
  std::vector<std::jthread> threads;
  for (int t = 1; t < std::max(1, parallel); ++t)
    threads.emplace_back(work);
  work();
  threads.clear();
  if (!first_error.empty()) return fail(first_error);
  return manifest;
}

Result<std::unique_ptr<SourceFile>, std::string> FileBackend::open(
    const dataset::FileEntry& file) const {
  if (auto ok = dataset::check_relative_path(file.path); !ok)
    return fail(file.path + ": " + ok.error());
  const std::string full = root_ + "/" + file.path;
  const int fd = ::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail(full + ": " + errno_text());
  return std::unique_ptr<SourceFile>(std::make_unique<PosixSourceFile>(fd));
}

}  // namespace sy::staging
