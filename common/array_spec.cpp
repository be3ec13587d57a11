#include "common/array_spec.hpp"

#include <algorithm>
#include <charconv>

namespace sy {
namespace {

Result<int, std::string> number(std::string_view s, std::string_view what) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > kMaxArrayIndex) {
    return fail("'" + std::string(s) + "' is not " + std::string(what) + " (0-" +
                std::to_string(kMaxArrayIndex) + ")");
  }
  return v;
}

}  // namespace

Result<ArraySpec, std::string> parse_array_spec(std::string_view text) {
  ArraySpec out;
  out.text = std::string(text);
  std::string_view ranges = text;
  if (auto pct = text.find('%'); pct != std::string_view::npos) {
    auto limit = number(text.substr(pct + 1), "a task limit");
    if (!limit) return fail(std::move(limit).error());
    if (limit.value() < 1) return fail(std::string("the limit after '%' must be at least 1"));
    out.limit = limit.value();
    ranges = text.substr(0, pct);
  }
  while (!ranges.empty()) {
    const auto comma = ranges.find(',');
    std::string_view item = ranges.substr(0, comma);
    ranges = comma == std::string_view::npos ? std::string_view() : ranges.substr(comma + 1);
    int step = 1;
    if (auto colon = item.find(':'); colon != std::string_view::npos) {
      auto s = number(item.substr(colon + 1), "a step");
      if (!s) return fail(std::move(s).error());
      if (s.value() < 1) return fail(std::string("a step must be at least 1"));
      step = s.value();
      item = item.substr(0, colon);
    }
    const auto dash = item.find('-');
    auto first = number(item.substr(0, dash), "an index");
    if (!first) return fail(std::move(first).error());
    int last = first.value();
    if (dash != std::string_view::npos) {
      auto l = number(item.substr(dash + 1), "an index");
      if (!l) return fail(std::move(l).error());
      last = l.value();
      if (last < first.value()) {
        return fail("range " + std::string(item) + " runs backwards");
      }
    }
    for (long i = first.value(); i <= last; i += step) {
      out.indices.push_back(static_cast<int>(i));
      if (out.indices.size() > static_cast<std::size_t>(kMaxArrayTasks) * 2) break;
    }
  }
  std::sort(out.indices.begin(), out.indices.end());
  out.indices.erase(std::unique(out.indices.begin(), out.indices.end()), out.indices.end());
  if (out.indices.empty()) return fail(std::string("names no index"));
  if (out.indices.size() > static_cast<std::size_t>(kMaxArrayTasks)) {
    return fail("has more than " + std::to_string(kMaxArrayTasks) + " tasks");
  }
  return out;
}

}  // namespace sy
