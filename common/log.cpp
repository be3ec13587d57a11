#include "common/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace sy::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::mutex g_write_mutex;

// systemd sets JOURNAL_STREAM to the device and inode of the stream it gave us; when stderr is
// still that stream, a "<N>" prefix carries each line's syslog priority into the journal.
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

const bool g_journal = stderr_is_journal();

// Each level's name and its syslog(3) priority as journald reads it: LOG_DEBUG, LOG_INFO,
// LOG_WARNING, LOG_ERR.
struct LevelText {
  std::string_view name;
  const char* journal_prefix;
};
constexpr LevelText kLevels[] = {
    {"debug", "<7>"}, {"info", "<6>"}, {"warn", "<4>"}, {"error", "<3>"}};

const LevelText& text_of(Level level) {
  return kLevels[static_cast<int>(level)];
}
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
  return text_of(level).name;
}

Line::Line(Level level, std::string_view component) : level_(level) {
  if (g_journal) out_ << text_of(level_).journal_prefix;
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
