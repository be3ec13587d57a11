#pragma once
// A directory under $TMPDIR (or /tmp) removed with everything in it when the object dies, and
// reading a file back.

#include <string>

namespace sy::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to `name` inside the directory (creating its directories) and returns its
  // path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// The file's bytes; "" when it cannot be read (the test's comparison then fails).
std::string read_file(const std::string& path);

}  // namespace sy::test
