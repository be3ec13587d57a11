#pragma once
// Datasets in a directory on shared storage (NFS, Lustre, GPFS, or any local path): `/path` or
// `file:///path`. Only regular files and directories are staged; a symlink or a device in the
// source is an error naming it, so a dataset can never point outside itself.

#include <string>

#include "plugins/staging/staging_backend.hpp"

namespace sy::staging {

class FileBackend final : public StagingBackend {
 public:
  explicit FileBackend(std::string root) : root_(std::move(root)) {}
  std::string source() const override { return root_; }
  Result<dataset::Manifest, std::string> scan(const std::string& name, bool with_digests,
                                              int parallel) const override;
  Result<std::unique_ptr<SourceFile>, std::string> open(
      const dataset::FileEntry& file) const override;

 private:
  std::string root_;
};

}  // namespace sy::staging
