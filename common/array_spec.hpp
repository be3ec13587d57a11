#pragma once
// Job array indices as sbatch --array writes them: "0-15", "1,3,5-7", "0-30:2", with "%4" at the
// end for at most four tasks at once.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sy {

inline constexpr int kMaxArrayTasks = 10000;
inline constexpr int kMaxArrayIndex = 1000000;

struct ArraySpec {
  std::string text;          // as written
  std::vector<int> indices;  // ascending, no repeats
  int limit = 0;             // at most this many at once; 0: no limit
  bool operator==(const ArraySpec&) const = default;
};

// The error is a fragment such as "range 9-3 runs backwards".
Result<ArraySpec, std::string> parse_array_spec(std::string_view text);

}  // namespace sy
