#include "common/dataset/chunk_digest.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <xxhash.h>

namespace sy::dataset {

std::int64_t chunk_count(std::int64_t file_size) {
  return (file_size + kChunkBytes - 1) / kChunkBytes;
}

std::uint64_t chunk_digest(std::span<const std::byte> data) {
  return XXH3_64bits(data.data(), data.size());
}

std::uint64_t file_digest(const std::vector<std::uint64_t>& chunk_digests) {
  std::vector<unsigned char> bytes;
  bytes.reserve(chunk_digests.size() * 8);
  for (const std::uint64_t d : chunk_digests) {
    for (int i = 0; i < 8; ++i)
      bytes.push_back(static_cast<unsigned char>(d >> (8 * i)));
  }
  return XXH3_64bits(bytes.data(), bytes.size());
}

Result<std::uint64_t, std::string> digest_open_file(int fd, std::int64_t size,
                                                    std::vector<std::byte>& buffer) {
  buffer.resize(static_cast<std::size_t>(kChunkBytes));
  std::vector<std::uint64_t> chunks;
  for (std::int64_t offset = 0; offset < size; offset += kChunkBytes) {
    const auto want = static_cast<std::size_t>(std::min(kChunkBytes, size - offset));
    std::size_t got = 0;
    while (got < want) {
      const ssize_t n = ::pread(fd, buffer.data() + got, want - got,
                                static_cast<off_t>(offset + static_cast<std::int64_t>(got)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(std::string("read failed: ") + std::strerror(errno));
      if (n == 0) return fail(std::string("file is shorter than its recorded size"));
      got += static_cast<std::size_t>(n);
    }
    chunks.push_back(chunk_digest(std::span(buffer.data(), want)));
  }
  return file_digest(chunks);
}

}  // namespace sy::dataset
