#pragma once
// What the stager keeps beside a staged copy DEST (same directory, hidden names):
//   .DEST.partial/    the copy being made; renamed to DEST once every file is verified
//   .DEST.journal     files of .partial already copied, verified and synced (resume after a kill)
//   .DEST.verified    the manifest DEST was verified against, with each file's inode and ctime
//                     then: an unchanged re-stage is one stat per file, and any write into a
//                     staged file (which changes its ctime) sends that file back to be checked.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "common/dataset/manifest.hpp"
#include "common/result.hpp"

namespace sy::staging {

struct StagedStat {
  std::int64_t ino = 0;
  std::int64_t ctime_ns = 0;
};

struct StageRecord {
  dataset::Manifest manifest;
  std::vector<StagedStat> stats;  // one per manifest file, same order
};

struct JournalEntry {
  dataset::FileEntry file;
  StagedStat stat;
};

struct StagePaths {
  std::filesystem::path dest, partial, journal, record;
};
StagePaths stage_paths(const std::filesystem::path& dest);

// Whether a file's current stat is the one recorded when it was verified.
bool stat_matches(const struct stat& st, const dataset::FileEntry& file, const StagedStat& staged);
StagedStat staged_stat(const struct stat& st);

// Written to a temporary name, synced, then renamed: a record is whole or absent.
Result<void, std::string> write_record(const std::filesystem::path& path,
                                       const StageRecord& record);
// Absent, unreadable or malformed records read as none: the copy is then checked from scratch.
std::optional<StageRecord> read_record(const std::filesystem::path& path);
// The record of the published copy at `dest` (the manifest it was verified against and its
// files' stats), if it is of `version`.
std::shared_ptr<const StageRecord> record_of_version(const std::filesystem::path& dest,
                                                     const std::string& version);

// Lines of "digest size mtime_ns ino ctime_ns path"; a torn last line (a kill mid-append) is
// ignored.
std::vector<JournalEntry> read_journal(const std::filesystem::path& path);
Result<void, std::string> append_journal(const std::filesystem::path& path,
                                         const std::vector<JournalEntry>& entries);

}  // namespace sy::staging
