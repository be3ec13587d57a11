#pragma once
// Job traces in the CSV format of ../shared/traces/README.md, read by header name so that an added
// column changes nothing: job_id, submit_s, gpus, duration_s are required; user, model, dataset,
// dataset_gb are used when present.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace sy::sim {

struct TraceJob {
  std::string id;
  std::int64_t submit_s = 0;
  int gpus = 1;
  std::int64_t duration_s = 1;  // run time at the best placement for its size
  std::string user;
  std::string model;    // empty: unknown
  std::string dataset;  // empty: none
  double dataset_gb = 0;
};

// Errors name the file, line and column: "philly.csv:12: gpus: 'x' is not a whole number".
Result<std::vector<TraceJob>, std::string> load_trace(const std::string& path);
Result<std::vector<TraceJob>, std::string> parse_trace(const std::string& text,
                                                       const std::string& file);

// The trace as CSV in this format (a generated or converted trace, kept and replayed with
// --trace).
std::string trace_csv(const std::vector<TraceJob>& trace);

// One line's cells: the format has no quoting; a Windows line end is tolerated.
std::vector<std::string> trace_cells(const std::string& line);

}  // namespace sy::sim
