#pragma once
// Document fields that are text in a unit syntax or a bare integer in the default unit (minutes
// for durations, MiB for sizes, as in Slurm), read with their place in the document for errors.
// Every file that takes a duration or a size reads it here: job files, topologies, the
// controller's configuration, the simulator's cluster.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/document.hpp"
#include "common/result.hpp"
#include "common/spec_error.hpp"
#include "common/units.hpp"

namespace sy {

// Seconds (parse_duration_seconds).
Result<std::int64_t, SpecError> duration_field_s(const Document& doc, const nlohmann::json& value,
                                                 const std::string& field);
// MiB, at most `max_mib` (parse_size_mib).
Result<std::int64_t, SpecError> size_field_mib(const Document& doc, const nlohmann::json& value,
                                               const std::string& field,
                                               std::int64_t max_mib = kMaxMemorySizeMib);

}  // namespace sy
