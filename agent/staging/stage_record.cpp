#include "agent/staging/stage_record.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/staging/beneath.hpp"

namespace sy::staging {
namespace {

std::int64_t ns_of(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

Result<void, std::string> write_all(int fd, const std::string& text, const std::string& what) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(what + ": " + errno_message());
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

StagePaths stage_paths(const std::filesystem::path& dest) {
  const auto parent = dest.parent_path();
  const std::string base = dest.filename().string();
  return {.dest = dest,
          .partial = parent / ("." + base + ".partial"),
          .journal = parent / ("." + base + ".journal"),
          .record = parent / ("." + base + ".verified")};
}

bool stat_matches(const struct stat& st, const dataset::FileEntry& file, const StagedStat& staged) {
  return S_ISREG(st.st_mode) && st.st_size == file.size && ns_of(st.st_mtim) == file.mtime_ns &&
         static_cast<std::int64_t>(st.st_ino) == staged.ino && ns_of(st.st_ctim) == staged.ctime_ns;
}

StagedStat staged_stat(const struct stat& st) {
  return {.ino = static_cast<std::int64_t>(st.st_ino), .ctime_ns = ns_of(st.st_ctim)};
}

Result<void, std::string> write_record(const std::filesystem::path& path,
                                       const StageRecord& record) {
  nlohmann::json stats = nlohmann::json::array();
  for (const auto& s : record.stats)
    stats.push_back({s.ino, s.ctime_ns});
  const std::string text =
      nlohmann::json{{"manifest", dataset::to_json(record.manifest)}, {"stats", std::move(stats)}}
          .dump() +
      "\n";
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return fail(tmp + ": " + errno_message());
  Fd owned(fd);
  if (auto ok = write_all(fd, text, tmp); !ok) return ok;
  if (::fsync(fd) != 0) return fail(tmp + ": fsync: " + errno_message());
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(path.string() + ": " + errno_message());
  return {};
}

std::optional<StageRecord> read_record(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("manifest") || !json.contains("stats"))
    return std::nullopt;
  auto manifest = dataset::manifest_from_json(json["manifest"]);
  const auto& stats = json["stats"];
  if (!manifest || !stats.is_array() || stats.size() != manifest->files.size()) return std::nullopt;
  StageRecord record{.manifest = std::move(manifest).value(), .stats = {}};
  for (const auto& s : stats) {
    if (!s.is_array() || s.size() != 2 || !s[0].is_number_integer() || !s[1].is_number_integer()) {
      return std::nullopt;
    }
    record.stats.push_back({.ino = s[0].get<std::int64_t>(), .ctime_ns = s[1].get<std::int64_t>()});
  }
  return record;
}

std::vector<JournalEntry> read_journal(const std::filesystem::path& path) {
  std::vector<JournalEntry> entries;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: torn by a kill mid-append
    std::istringstream fields(line);
    std::string digest;
    JournalEntry e;
    fields >> digest >> e.file.size >> e.file.mtime_ns >> e.stat.ino >> e.stat.ctime_ns;
    if (!fields || fields.get() != ' ') continue;
    std::getline(fields, e.file.path);
    auto d = dataset::parse_digest_hex(digest);
    if (!d || !dataset::check_relative_path(e.file.path)) continue;
    e.file.digest = d.value();
    entries.push_back(std::move(e));
  }
  return entries;
}

Result<void, std::string> append_journal(const std::filesystem::path& path,
                                         const std::vector<JournalEntry>& entries) {
  std::string text;
  for (const auto& e : entries) {
    text += dataset::digest_hex(e.file.digest) + ' ' + std::to_string(e.file.size) + ' ' +
            std::to_string(e.file.mtime_ns) + ' ' + std::to_string(e.stat.ino) + ' ' +
            std::to_string(e.stat.ctime_ns) + ' ' + e.file.path + '\n';
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return fail(path.string() + ": " + errno_message());
  Fd owned(fd);
  if (auto ok = write_all(fd, text, path.string()); !ok) return ok;
  if (::fdatasync(fd) != 0) return fail(path.string() + ": fdatasync: " + errno_message());
  return {};
}

}  // namespace sy::staging
