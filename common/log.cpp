#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

namespace sy::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::mutex g_write_mutex;
}  // namespace

void set_level(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}
Level level() {
  return g_level.load(std::memory_order_relaxed);
}

bool parse_level(std::string_view text, Level& out) {
  for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

Line::Line(Level level, std::string_view component) : level_(level) {
  out_ << level_name(level_) << ' ' << component << ": ";
}

Line::~Line() {
  out_ << '\n';
  const std::string text = out_.str();
  std::lock_guard<std::mutex> lock(g_write_mutex);
  // write(2) of a whole line keeps lines from different threads and processes unmixed.
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

}  // namespace sy::log
