#include "cli/progress_text.hpp"

#include <cstdio>

namespace sy::cli {

std::string bytes_text(std::int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return text;
}

std::string progress_line(const nlohmann::json& p) {
  const auto done = p.value("bytes_done", std::int64_t{0});
  const auto total = p.value("bytes_total", std::int64_t{0});
  const double seconds = p.value("seconds", 0.0);
  const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int width = 24;
  const int filled = static_cast<int>(fraction * width);
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '-') + "]";
  char text[200];
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
  std::snprintf(text, sizeof text, " %3.0f%%  %s/%s  %lld/%lld files  %s/s  ETA %.0fs",
                fraction * 100, bytes_text(done).c_str(), bytes_text(total).c_str(),
                static_cast<long long>(p.value("files_done", std::int64_t{0})),
                static_cast<long long>(p.value("files_total", std::int64_t{0})),
                bytes_text(static_cast<std::int64_t>(rate)).c_str(), eta);
  return bar + text;
}

}  // namespace sy::cli
