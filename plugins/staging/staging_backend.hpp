#pragma once
// Where datasets come from. A backend lists a dataset's files (the controller's `sy dataset add`
// scan; the agent's check that its source is unchanged) and reads them (the agent's stager). A
// backend is chosen by the source's scheme: `/path` or `file:///path` is a directory on shared
// storage; `s3://` and `http(s)://` are names reserved for backends to come.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/dataset/manifest.hpp"
#include "common/result.hpp"

namespace sy::staging {

// One open source file. read_at fills as much of `into` as the file has from `offset` and
// returns how many bytes it read (less only at the end of the file).
class SourceFile {
 public:
  virtual ~SourceFile() = default;
  virtual Result<std::size_t, std::string> read_at(std::int64_t offset,
                                                   std::span<std::byte> into) = 0;
};

class StagingBackend {
 public:
  virtual ~StagingBackend() = default;
  virtual std::string source() const = 0;  // as given, for messages
  // Every file with path, size and mtime; digests only when `with_digests` (reads everything,
  // `parallel` files at a time). The error names the file and what is wrong (a symlink, a
  // special file, an unreadable directory).
  virtual Result<dataset::Manifest, std::string> scan(const std::string& name, bool with_digests,
                                                      int parallel) const = 0;
  virtual Result<std::unique_ptr<SourceFile>, std::string> open(
      const dataset::FileEntry& file) const = 0;
};

// The backend for a source string, or why there is none (unknown scheme, not absolute).
Result<std::unique_ptr<StagingBackend>, std::string> make_staging_backend(
    const std::string& source);

}  // namespace sy::staging
