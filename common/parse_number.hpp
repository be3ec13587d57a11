#pragma once
// A number that is the whole of a text: "12" is 12, "12x", " 12" and "" are not numbers.
// Integers and floating point alike (std::from_chars: no locale, no leading '+').

#include <charconv>
#include <string_view>

namespace sy {

template <class T>
bool parse_whole_number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace sy
