#include "common/utf8.hpp"

namespace sy {

std::size_t utf8_sequence_length(std::string_view in, std::size_t i) {
  const auto c = static_cast<unsigned char>(in[i]);
  const std::size_t len = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
  bool ok = len > 0 && i + len <= in.size();
  for (std::size_t k = 1; ok && k < len; ++k)
    ok = (static_cast<unsigned char>(in[i + k]) & 0xC0) == 0x80;
  // Overlong forms and surrogates are not UTF-8 either.
  if (ok && len == 2) ok = c >= 0xC2;
  if (ok && len == 3) {
    const auto c1 = static_cast<unsigned char>(in[i + 1]);
    ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
  }
  if (ok && len == 4) {
    const auto c1 = static_cast<unsigned char>(in[i + 1]);
    ok = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
  }
  return ok ? len : 0;
}

std::optional<std::size_t> first_invalid_utf8(std::string_view in) {
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t len = utf8_sequence_length(in, i);
    if (len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

std::string utf8_text(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t len = utf8_sequence_length(in, i);
    if (len == 0) {
      out += '?';
      ++i;
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace sy
