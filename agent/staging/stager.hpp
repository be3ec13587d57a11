#pragma once
// The stager: copies one dataset version from its source into a directory on local disk, many
// files (and chunks of large files) in flight at once, checks every byte it writes against the
// manifest, and publishes the copy atomically: DEST appears only complete and verified. Killed
// midway, the next call resumes from the journal without recopying verified files; called again
// on an unchanged copy it costs one stat per file; a file changed in place since it was staged
// is found by that stat, checked and recopied. See stage_record.hpp for the files beside DEST.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "agent/staging/stage_record.hpp"
#include "common/dataset/manifest.hpp"
#include "common/result.hpp"
#include "plugins/staging/staging_backend.hpp"

namespace sy::staging {

struct StageRequest {
  dataset::Manifest manifest;
  // False when the manifest comes from a stat walk of the source (sy-agent stage --from): the
  // digests are then computed while copying and the source is trusted, as cp and rsync do.
  bool digests_known = true;
  std::filesystem::path dest;
  int parallel = 16;
  // Hash every file of an existing copy instead of trusting unchanged stats.
  bool full_check = false;
  // Read no faster than this from the source (0: as fast as it goes), so staging leaves shared
  // storage to the jobs reading it.
  std::int64_t max_bytes_per_s = 0;
  // The copy's record when the caller has just read it (a check order), so it is not read twice.
  std::shared_ptr<const StageRecord> record;
};

struct StageProgress {
  std::int64_t bytes_done = 0, bytes_total = 0;
  std::int64_t files_done = 0, files_total = 0;
  double seconds = 0;
};

struct StageOutcome {
  bool unchanged = false;  // the copy was already there and intact
  std::int64_t bytes_copied = 0;
  std::int64_t files_copied = 0;
  std::int64_t files_kept = 0;      // already verified: in the journal or the old copy
  std::int64_t files_repaired = 0;  // staged before, changed since, copied again
  dataset::Manifest manifest;       // with every digest (computed ones filled in)
};

struct StageError {
  enum class Kind { Source, Checksum, DiskFull, Io, Refused, Cancelled };
  Kind kind = Kind::Io;
  std::string message;
};
std::string kind_name(StageError::Kind kind);

using ProgressFn = std::function<void(const StageProgress&)>;

// `on_progress` (may be empty) is called from the calling thread about four times a second and
// once at the end; `cancel` (may be null) stops the copy between files, leaving it resumable.
Result<StageOutcome, StageError> stage_dataset(const StageRequest& request,
                                               const StagingBackend& source,
                                               const ProgressFn& on_progress,
                                               const std::atomic<bool>* cancel);

}  // namespace sy::staging
