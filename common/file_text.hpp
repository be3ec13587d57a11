#pragma once
// Reading a whole file into memory: how every program reads a file it then parses (parsing a
// buffer is several times faster than parsing through a stream, which matters for manifests of
// 100,000 files).

#include <string>

#include "common/result.hpp"

namespace sy {

// The file's bytes, or why not, as strerror says it ("No such file or directory").
Result<std::string, std::string> read_file_text(const std::string& path);

}  // namespace sy
