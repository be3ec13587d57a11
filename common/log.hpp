#pragma once
// The one logging path of every Switchyard program: one line per event on stderr,
// "LEVEL component: message", which journald and `docker logs`-style collectors keep as is.
// When stderr is systemd's journal stream, each line starts with its syslog priority ("<3>"
// error ... "<7>" debug), so `journalctl -p warning` finds warnings and errors.
//
//   SY_LOG(info, "store") << "applied migration " << version;

#include <sstream>
#include <string_view>

namespace sy::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

// Lines below `level` are dropped. Set once at start-up (and on reload).
void set_level(Level level);
Level level();
bool parse_level(std::string_view text, Level& out);
std::string_view level_name(Level level);

// One log line; written whole (under a lock) when it goes out of scope.
class Line {
 public:
  Line(Level level, std::string_view component);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;
  template <class T>
  Line& operator<<(const T& v) {
    out_ << v;
    return *this;
  }

 private:
  Level level_;
  std::ostringstream out_;
};

}  // namespace sy::log

#define SY_LOG(lvl, component)                      \
  if (::sy::log::Level::lvl < ::sy::log::level()) { \
  } else                                            \
    ::sy::log::Line(::sy::log::Level::lvl, component)
