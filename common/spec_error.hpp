#pragma once
// SpecError: what is wrong with a user's document (job file, config file, API body), and where.
// Rendered as one line: `job.yaml:7:5: resources.gpus_per_node: must be >= 1`.

#include <string>

namespace sy {

struct SpecError {
  std::string file;     // empty for API bodies
  int line = 0;         // 1-based; 0 when unknown
  int column = 0;       // 1-based; 0 when unknown
  std::string field;    // dotted path, e.g. "resources.gpus_per_node" or "command[2]"; may be empty
  std::string message;  // what is wrong, e.g. "must be >= 1"

  std::string to_string() const;
};

}  // namespace sy
