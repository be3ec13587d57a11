#pragma once
// Durations and memory sizes as users write them in job files and on the command line.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sy {

// Slurm forms ("90" minutes, "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS") and unit forms
// ("45s", "30m", "2h", "1d", "1h30m"). Returns seconds, at least 1 and at most 365 days; the error
// text is a complete sentence fragment such as "must be a duration like 30m, 2h or 1-00:00:00".
Result<std::int64_t, std::string> parse_duration_seconds(std::string_view text);
// "HH:MM:SS" under a day, "D-HH:MM:SS" from a day on: parse_duration_seconds reads it back.
std::string format_duration(std::int64_t seconds);

inline constexpr std::int64_t kMaxMemorySizeMib = 16LL << 20;  // 16 TiB: host memory per GPU
inline constexpr std::int64_t kMaxStorageSizeMib = 1LL << 30;  // 1 PiB: a node's local storage

// "512M", "16G", "16GiB", "1.5T", "80gb" (binary units; a bare number is MiB, as in Slurm's --mem).
// Returns MiB, at least 1 and at most `max_mib`.
Result<std::int64_t, std::string> parse_size_mib(std::string_view text,
                                                 std::int64_t max_mib = kMaxMemorySizeMib);
// "16G" when whole GiB, else "1536M": parse_size_mib reads it back.
std::string format_size_mib(std::int64_t mib);

// Milliseconds since the Unix epoch as "2026-11-22T15:30:00.123Z", and back.
std::string format_utc_ms(std::int64_t ms);
Result<std::int64_t, std::string> parse_utc_ms(std::string_view text);

}  // namespace sy
