#include "agent/staging/stage_record.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "common/file_text.hpp"

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

// The record is read on every re-stage, so it is plain lines, not JSON (a JSON tree of 100,000
// files costs more to build and free than the stat walk it serves):
//   sy-stage-record 2 NAME
//   PATH \t SIZE \t MTIME_NS \t DIGEST(hex) \t INO \t CTIME_NS     (one per file, manifest order)
// Paths cannot hold tabs or newlines (check_relative_path refuses control characters).
constexpr std::string_view kRecordHeader = "sy-stage-record 2 ";

Result<void, std::string> write_record(const std::filesystem::path& path,
                                       const StageRecord& record) {
  std::string text;
  text.reserve(64 + record.manifest.files.size() * 96);
  text.append(kRecordHeader).append(record.manifest.name).append("\n");
  for (std::size_t i = 0; i < record.manifest.files.size(); ++i) {
    const auto& f = record.manifest.files[i];
    text.append(f.path)
        .append("\t")
        .append(std::to_string(f.size))
        .append("\t")
        .append(std::to_string(f.mtime_ns))
        .append("\t")
        .append(dataset::digest_hex(f.digest))
        .append("\t")
        .append(std::to_string(record.stats[i].ino))
        .append("\t")
        .append(std::to_string(record.stats[i].ctime_ns))
        .append("\n");
  }
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return fail(tmp + ": " + errno_message());
  Fd owned(fd);
  if (auto ok = write_all(fd, text, tmp); !ok) return ok;
  if (::fsync(fd) != 0) return fail(tmp + ": fsync: " + errno_message());
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(path.string() + ": " + errno_message());
  return {};
}

namespace {

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Anything malformed, a path that fails the manifest's checks, or paths out of order: no record
// (the copy is then not trusted, never taken for verified).
std::optional<StageRecord> parse_record_lines(std::string_view text) {
  const auto first = text.find('\n');
  if (first == std::string_view::npos) return std::nullopt;
  StageRecord record;
  record.manifest.name =
      std::string(text.substr(kRecordHeader.size(), first - kRecordHeader.size()));
  if (!dataset::valid_dataset_name(record.manifest.name)) return std::nullopt;
  std::size_t at = first + 1;
  while (at < text.size()) {
    const auto end = text.find('\n', at);
    if (end == std::string_view::npos) return std::nullopt;  // torn
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    std::string_view fields[6];
    std::size_t from = 0;
    for (int f = 0; f < 6; ++f) {
      const auto tab = f < 5 ? line.find('\t', from) : line.size();
      if (tab == std::string_view::npos) return std::nullopt;
      fields[f] = line.substr(from, tab - from);
      from = tab + 1;
    }
    if (from != line.size() + 1) return std::nullopt;
    const auto size = whole_number(fields[1]), mtime = whole_number(fields[2]),
               ino = whole_number(fields[4]), ctime = whole_number(fields[5]);
    const auto digest = dataset::parse_digest_hex(fields[3]);
    if (!size || *size < 0 || !mtime || !ino || !ctime || !digest) return std::nullopt;
    if (!dataset::check_relative_path(fields[0])) return std::nullopt;
    if (!record.manifest.files.empty() && !(record.manifest.files.back().path < fields[0])) {
      return std::nullopt;
    }
    record.manifest.files.push_back({.path = std::string(fields[0]),
                                     .size = *size,
                                     .mtime_ns = *mtime,
                                     .digest = digest.value()});
    record.stats.push_back({.ino = *ino, .ctime_ns = *ctime});
  }
  return record;
}

}  // namespace

std::optional<StageRecord> read_record(const std::filesystem::path& path) {
  const auto text = read_file_text(path.string());
  if (!text) return std::nullopt;
  if (text->starts_with(kRecordHeader)) return parse_record_lines(text.value());
  // Records written before version 2 are JSON.
  const auto json = nlohmann::json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
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

std::shared_ptr<const StageRecord> record_of_version(const std::filesystem::path& dest,
                                                     const std::string& version) {
  auto record = read_record(stage_paths(dest).record);
  if (!record || record->manifest.version() != version) return nullptr;
  return std::make_shared<const StageRecord>(std::move(*record));
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
