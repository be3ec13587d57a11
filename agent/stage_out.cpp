#include "agent/stage_out.hpp"

#include <fcntl.h>

#include <thread>

#include "agent/staging/beneath.hpp"
#include "agent/staging/stager.hpp"
#include "common/log.hpp"
#include "plugins/staging/file_backend.hpp"

namespace sy::agent {
namespace {

using staging::StageError;

// One attempt at one output.
Result<staging::StageOutcome, StageError> copy_output(const std::filesystem::path& workdir,
                                                      const Output& out, int parallel) {
  // The directory must resolve below the working directory with no symlink on the way.
  auto root = staging::open_directory(workdir.string());
  if (!root) return fail(StageError{.kind = StageError::Kind::Source, .message = root.error()});
  auto dir = staging::open_beneath(root->get(), out.path, O_RDONLY | O_DIRECTORY);
  if (!dir) {
    return fail(StageError{.kind = StageError::Kind::Refused,
                           .message = (workdir / out.path).string() + ": " + dir.error()});
  }
  const staging::FileBackend source((workdir / out.path).string());
  auto manifest = source.scan("outputs", /*with_digests=*/true, parallel);
  if (!manifest) {
    return fail(StageError{.kind = StageError::Kind::Source, .message = manifest.error()});
  }
  return staging::stage_dataset({.manifest = std::move(manifest).value(),
                                 .digests_known = true,
                                 .dest = out.to,
                                 .parallel = parallel,
                                 .full_check = false,
                                 .max_bytes_per_s = 0,
                                 .record = nullptr},
                                source, {}, nullptr);
}

}  // namespace

std::string stage_out(const std::filesystem::path& workdir, const std::vector<Output>& outputs,
                      const StageOutOptions& options,
                      const std::function<void(const std::string&)>& on_progress) {
  for (const auto& out : outputs) {
    auto pause = options.first_pause;
    for (int attempt = 1;; ++attempt) {
      on_progress("copying " + out.path + " to " + out.to + " (attempt " + std::to_string(attempt) +
                  " of " + std::to_string(options.attempts) + ")");
      auto copied = copy_output(workdir, out, options.parallel);
      if (copied) {
        SY_LOG(info, "jobs") << "staged out " << out.path << " to " << out.to << ": "
                             << copied->files_copied << " files copied, " << copied->files_kept
                             << " already there";
        break;
      }
      const std::string why = out.path + " -> " + out.to + ": " +
                              staging::kind_name(copied.error().kind) + ": " +
                              copied.error().message;
      SY_LOG(warn, "jobs") << "stage-out attempt " << attempt << " failed: " << why;
      // Refused means the paths themselves are wrong: trying again cannot help.
      if (attempt >= options.attempts || copied.error().kind == StageError::Kind::Refused) {
        return why + " (after " + std::to_string(attempt) + " attempt" + (attempt == 1 ? "" : "s") +
               ")";
      }
      std::this_thread::sleep_for(pause);
      pause *= 4;
    }
  }
  return "";
}

}  // namespace sy::agent
