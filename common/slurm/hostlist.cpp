#include "common/slurm/hostlist.hpp"

#include <cctype>
#include <charconv>

namespace sy::slurm {
namespace {

// Top-level pieces of a list: commas inside brackets belong to the range.
Result<std::vector<std::string_view>, std::string> split_top(std::string_view list) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    const char c = i < list.size() ? list[i] : ',';
    if (c == '[') {
      if (++depth > 1) return fail("nested '[' in \"" + std::string(list) + "\"");
    } else if (c == ']') {
      if (--depth < 0) return fail("']' without '[' in \"" + std::string(list) + "\"");
    } else if ((c == ',' || c == ' ') && depth == 0) {
      if (i > start) out.push_back(list.substr(start, i - start));
      start = i + 1;
    }
  }
  if (depth != 0) return fail("'[' without ']' in \"" + std::string(list) + "\"");
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string padded(long long n, std::size_t width) {
  std::string s = std::to_string(n);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

}  // namespace

Result<std::vector<std::string>, std::string> expand_hostlist(std::string_view list) {
  auto pieces = split_top(list);
  if (!pieces) return fail(pieces.error());
  std::vector<std::string> out;
  for (const std::string_view piece : pieces.value()) {
    const auto open = piece.find('[');
    if (open == std::string_view::npos) {
      out.emplace_back(piece);
    } else {
      const auto close = piece.find(']', open);
      const std::string prefix(piece.substr(0, open)), suffix(piece.substr(close + 1));
      if (suffix.find('[') != std::string::npos) {
        return fail("more than one bracketed range in \"" + std::string(piece) + "\"");
      }
      std::string_view ranges = piece.substr(open + 1, close - open - 1);
      if (ranges.empty()) return fail("empty brackets in \"" + std::string(piece) + "\"");
      while (!ranges.empty()) {
        const auto comma = ranges.find(',');
        const std::string_view range = ranges.substr(0, comma);
        ranges = comma == std::string_view::npos ? std::string_view() : ranges.substr(comma + 1);
        const auto dash = range.find('-');
        const std::string_view lo_text = range.substr(0, dash);
        const std::string_view hi_text =
            dash == std::string_view::npos ? lo_text : range.substr(dash + 1);
        if (!all_digits(lo_text) || !all_digits(hi_text) || lo_text.size() > 9 ||
            hi_text.size() > 9) {
          return fail("\"" + std::string(range) + "\" in \"" + std::string(piece) +
                      "\" is not a number or a range like 1-4");
        }
        long long lo = 0, hi = 0;
        std::from_chars(lo_text.data(), lo_text.data() + lo_text.size(), lo);
        std::from_chars(hi_text.data(), hi_text.data() + hi_text.size(), hi);
        if (hi < lo) return fail("range " + std::string(range) + " runs backwards");
        // "01-10" pads to the width of its first number, as Slurm does.
        const std::size_t width = lo_text.size();
        for (long long n = lo; n <= hi; ++n) {
          if (out.size() >= kMaxHostlistHosts) {
            return fail("more than " + std::to_string(kMaxHostlistHosts) + " hosts");
          }
          out.push_back(prefix + padded(n, width) + suffix);
        }
      }
    }
    if (out.size() > kMaxHostlistHosts) {
      return fail("more than " + std::to_string(kMaxHostlistHosts) + " hosts");
    }
  }
  return out;
}

std::string compress_hostlist(const std::vector<std::string>& hosts) {
  struct Name {
    std::string prefix;
    std::string digits;  // the trailing number as written; empty: none
  };
  const auto split = [](const std::string& h) {
    std::size_t i = h.size();
    while (i > 0 && std::isdigit(static_cast<unsigned char>(h[i - 1])))
      --i;
    // Numbers longer than 9 digits are left as part of the name.
    if (h.size() - i > 9) i = h.size();
    return Name{h.substr(0, i), h.substr(i)};
  };
  std::string out;
  std::size_t i = 0;
  while (i < hosts.size()) {
    const Name first = split(hosts[i]);
    std::size_t j = i + 1;
    if (!first.digits.empty()) {
      while (j < hosts.size()) {
        const Name next = split(hosts[j]);
        if (next.prefix != first.prefix || next.digits.empty() ||
            next.digits.size() != first.digits.size()) {
          break;
        }
        ++j;
      }
    }
    if (!out.empty()) out += ',';
    if (j - i == 1) {
      out += hosts[i];
    } else {
      // Consecutive numbers become a-b; the group keeps the names' order.
      out += first.prefix + "[";
      std::size_t k = i;
      bool first_range = true;
      while (k < j) {
        const long long lo = std::stoll(split(hosts[k]).digits);
        std::size_t m = k + 1;
        while (m < j && std::stoll(split(hosts[m]).digits) == lo + static_cast<long long>(m - k))
          ++m;
        out += (first_range ? "" : ",") + split(hosts[k]).digits;
        if (m - k > 1) out += "-" + split(hosts[m - 1]).digits;
        first_range = false;
        k = m;
      }
      out += "]";
    }
    i = j;
  }
  return out;
}

}  // namespace sy::slurm
