#include "common/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <regex>
#include <string>

namespace sy {
namespace {

constexpr std::int64_t kMaxDurationS = 365LL * 24 * 3600;
const char* const kDurationHelp =
    "must be a duration like 30m, 2h, 1h30m, 2:00:00 or 1-12:00:00 (a bare number is minutes)";

std::int64_t to_int(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return -1;
  return v;
}

}  // namespace

Result<std::int64_t, std::string> parse_duration_seconds(std::string_view text_in) {
  const std::string text(text_in);
  static const std::regex slurm(R"((?:(\d{1,4})-)?(\d{1,9})(?::(\d{1,2}))?(?::(\d{1,2}))?)");
  static const std::regex units(R"((?:(\d{1,4})d)?(?:(\d{1,6})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?)");
  std::smatch m;
  std::int64_t total = -1;
  if (!text.empty() && std::regex_match(text, m, slurm)) {
    const bool has_days = m[1].matched;
    const std::int64_t days = has_days ? to_int(m[1]) : 0;
    const std::int64_t a = to_int(m[2]);
    const std::int64_t b = m[3].matched ? to_int(m[3]) : 0;
    const std::int64_t c = m[4].matched ? to_int(m[4]) : 0;
    if ((m[3].matched && b > 59) || (m[4].matched && c > 59))
      return fail(std::string(kDurationHelp));
    if (has_days) {
      // D-HH, D-HH:MM, D-HH:MM:SS
      total = days * 86400 + a * 3600 + b * 60 + c;
    } else if (m[4].matched) {
      total = a * 3600 + b * 60 + c;  // HH:MM:SS
    } else if (m[3].matched) {
      total = a * 60 + b;  // MM:SS
    } else {
      total = a * 60;  // MM
    }
  } else if (!text.empty() && std::regex_match(text, m, units)) {
    total = 0;
    const std::int64_t scale[] = {86400, 3600, 60, 1};
    for (int i = 1; i <= 4; ++i) {
      if (m[i].matched) total += to_int(m[i]) * scale[i - 1];
    }
  } else {
    return fail(std::string(kDurationHelp));
  }
  if (total <= 0) return fail(std::string("must be longer than zero"));
  if (total > kMaxDurationS) return fail(std::string("must be at most 365 days"));
  return total;
}

std::string format_duration(std::int64_t s) {
  char buf[48];
  const std::int64_t d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (d > 0) {
    std::snprintf(buf, sizeof buf, "%lld-%02lld:%02lld:%02lld", static_cast<long long>(d),
                  static_cast<long long>(h), static_cast<long long>(m),
                  static_cast<long long>(sec));
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(sec));
  }
  return buf;
}

Result<std::int64_t, std::string> parse_size_mib(std::string_view text_in, std::int64_t max_mib) {
  static const std::regex size(R"(([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtT]?)(?:i?[bB])?)");
  const std::string text(text_in);
  std::smatch m;
  if (!std::regex_match(text, m, size)) {
    return fail(std::string("must be a size like 512M, 16G or 80GiB (a bare number is MiB)"));
  }
  const double number = std::stod(m[1]);
  const char unit = m[2].length() ? static_cast<char>(std::toupper(m[2].str()[0])) : 'M';
  const double factor = unit == 'K' ? 1.0 / 1024 : unit == 'M' ? 1 : unit == 'G' ? 1024 : 1048576;
  const double mib = std::ceil(number * factor);
  if (mib < 1) return fail(std::string("must be at least 1M"));
  if (mib > static_cast<double>(max_mib)) {
    return fail("must be at most " + format_size_mib(max_mib));
  }
  return static_cast<std::int64_t>(mib);
}

std::string format_size_mib(std::int64_t mib) {
  if (mib % (1024 * 1024) == 0) return std::to_string(mib / (1024 * 1024)) + "T";
  if (mib % 1024 == 0) return std::to_string(mib / 1024) + "G";
  return std::to_string(mib) + "M";
}

std::string format_utc_ms(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // sized for any int fields, so the compiler can prove nothing is cut
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

Result<std::int64_t, std::string> parse_utc_ms(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  const std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &s, &ms) != 7) {
    return fail("not a UTC timestamp: " + t);
  }
  std::tm tm{};
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
  tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

}  // namespace sy
