// The job-spec parser on arbitrary text, as YAML (sy submit FILE) and as JSON (POST /v1/jobs).
// A spec that parses must survive its own round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/job_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto spec : {sy::job_spec_from_yaml(text, "fuzz.yaml"), sy::job_spec_from_json_text(text)}) {
    if (!spec) continue;
    auto again = sy::job_spec_from_json_text(sy::job_spec_to_json(spec.value()).dump());
    if (!again) std::abort();
  }
  return 0;
}
