#pragma once
// Other public GPU-cluster traces, converted to the simulator's trace format
// (../shared/traces/README.md; docs/traces.md says what is kept and what is dropped):
//   - Alibaba PAI 2020 (cluster-trace-gpu-v2020): pai_job_table.csv and pai_task_table.csv, no
//     header lines, columns as that release's schema names them;
//   - Helios (SenseTime, SC'21): a cluster's cluster_log.csv, read by its header names.
// Rows a replay cannot use (CPU-only jobs, jobs that never ran or did not end) are dropped and
// counted; a malformed row is an error naming its file and line.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "controller/sim/trace.hpp"

namespace sy::sim {

struct Converted {
  std::vector<TraceJob> jobs;  // numbered `<prefix>-NNNNNN` and sorted as the format asks
  std::int64_t dropped = 0;    // source jobs left out, for the reasons above
};

// `jobs_text`/`tasks_text`: the two tables' contents; the file names are for errors.
Result<Converted, std::string> convert_pai2020(const std::string& jobs_text,
                                               const std::string& jobs_file,
                                               const std::string& tasks_text,
                                               const std::string& tasks_file);
Result<Converted, std::string> convert_helios(const std::string& text, const std::string& file);

}  // namespace sy::sim
