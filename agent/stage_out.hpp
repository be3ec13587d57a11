#pragma once
// Stage-out: after a job's processes end, each directory it named in `outputs` is copied from
// below its working directory to shared storage by the stager, so it is verified (every file's
// digest), published whole (a partial copy is never taken for the result) and resumable, as
// datasets are. A failed copy is tried again after a pause that grows; the error of the last
// attempt is what the job's end reports.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/job_spec.hpp"

namespace sy::agent {

struct StageOutOptions {
  int attempts = 3;
  std::chrono::milliseconds first_pause{2000};  // then four times as long each time
  int parallel = 8;
};

// "" when every output was copied; else what failed, naming the output.
std::string stage_out(const std::filesystem::path& workdir, const std::vector<Output>& outputs,
                      const StageOutOptions& options,
                      const std::function<void(const std::string&)>& on_progress);

}  // namespace sy::agent
