#include "plugins/staging/file_backend.hpp"
#include "plugins/staging/staging_backend.hpp"

namespace sy::staging {

Result<std::unique_ptr<StagingBackend>, std::string> make_staging_backend(
    const std::string& source) {
  std::string path = source;
  if (path.starts_with("file://")) path = path.substr(7);
  if (path.starts_with("/")) {
    while (path.size() > 1 && path.back() == '/')
      path.pop_back();
    return std::unique_ptr<StagingBackend>(std::make_unique<FileBackend>(path));
  }
  const auto scheme_end = source.find("://");
  if (scheme_end != std::string::npos) {
    return fail("source \"" + source + "\": the " + source.substr(0, scheme_end) +
                ":// backend is not available; use a directory on shared storage (/path or "
                "file:///path)");
  }
  return fail("source \"" + source + "\": must be an absolute path (or file:///path)");
}

}  // namespace sy::staging
