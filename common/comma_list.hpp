#pragma once
// Comma-separated lists: how lists are kept in plain database columns and given on command
// lines and in CSV rows. An empty text is an empty list; otherwise every field counts, empty
// ones included ("a,,b" has three), so a caller can refuse them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sy {

std::string join_commas(const std::vector<std::string>& items);
std::string join_commas(const std::vector<std::int64_t>& numbers);
std::vector<std::string> split_commas(std::string_view text);

}  // namespace sy
