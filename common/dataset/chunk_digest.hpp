#pragma once
// File digests that can be computed in parallel pieces: a file is cut into kChunkBytes chunks,
// each chunk hashed with XXH3-64, and the file's digest is XXH3-64 of its chunk digests (little
// endian, in order; an empty file has no chunks). Both the manifest scan on shared storage and
// the stager's copy compute digests this way, so a large shard can be copied and checked by
// several threads at once.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace sy::dataset {

inline constexpr std::int64_t kChunkBytes = 8LL << 20;

std::int64_t chunk_count(std::int64_t file_size);
std::uint64_t chunk_digest(std::span<const std::byte> data);
std::uint64_t file_digest(const std::vector<std::uint64_t>& chunk_digests);

// Reads the open file `fd` of `size` bytes chunk by chunk with pread into `buffer` (resized to
// kChunkBytes) and returns its file digest; the error says what failed (short file, I/O error).
Result<std::uint64_t, std::string> digest_open_file(int fd, std::int64_t size,
                                                    std::vector<std::byte>& buffer);

}  // namespace sy::dataset
