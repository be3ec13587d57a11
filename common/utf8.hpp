#pragma once
// UTF-8 checks: JSON carries only UTF-8, so text from outside (job files, process output) is
// checked or mended before it is serialised.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sy {

// The length of the well-formed UTF-8 sequence starting at in[i], or 0 when there is none
// (a stray continuation byte, a truncated sequence, an overlong form, a surrogate).
std::size_t utf8_sequence_length(std::string_view in, std::size_t i);
// The offset of the first byte that is not part of well-formed UTF-8, if any.
std::optional<std::size_t> first_invalid_utf8(std::string_view in);
// Text that JSON can carry: every byte sequence that is not UTF-8 becomes '?'.
std::string utf8_text(std::string_view bytes);

}  // namespace sy
