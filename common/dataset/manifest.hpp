#pragma once
// A dataset version: every file's relative path, size, mtime and content digest. The version id
// is a digest of paths, sizes and content digests, so touching a file without changing it does
// not make a new version, and any change of content or layout does. Manifests come from the
// controller (over the network, from shared storage) and are checked here before any path in
// them is used: a path can never leave the directory it is staged into.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/dataset/dataset_name.hpp"
#include "common/result.hpp"

namespace sy::dataset {

struct FileEntry {
  std::string path;  // relative, '/'-separated, checked by check_relative_path
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t digest = 0;  // file_digest (chunk_digest.hpp)
};

struct Manifest {
  std::string name;
  std::vector<FileEntry> files;  // sorted by path, no duplicates

  std::int64_t total_bytes() const;
  // 16 hex digits.
  std::string version() const;
  const FileEntry* find(std::string_view path) const;
};

// Why `path` may not be staged, or nothing when it may: it must be relative, without "." or ".."
// components, empty components, control characters or a trailing '/', and at most 4,096 bytes.
Result<void, std::string> check_relative_path(std::string_view path);

nlohmann::json to_json(const Manifest& manifest);
nlohmann::json to_json(const FileEntry& file);  // one of to_json(Manifest)'s "files"
// Checks everything: name, every path, sizes, digests as hex, sorted and unique paths. The error
// names the field, e.g. `files[3].path: ".." is not allowed`.
Result<Manifest, std::string> manifest_from_json(const nlohmann::json& json);

std::string digest_hex(std::uint64_t digest);
Result<std::uint64_t, std::string> parse_digest_hex(std::string_view text);

}  // namespace sy::dataset
