#pragma once
// SessionTokens: the short-lived bearer tokens `sy dashboard` asks for, so that a browser, which
// can prove nobody by socket or MUNGE, acts as the user who asked. A token only reads (GET) and
// lives in memory: a restarted controller forgets every token, and `sy dashboard` makes a new
// one. Thread-safe; time is passed in.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sy::api {

class SessionTokens {
 public:
  struct Session {
    std::string user;
    std::int64_t expires_ms = 0;
  };
  // A new random token (256 bits, hex) for `user`, valid until now + ttl. Ended tokens are
  // forgotten here, so the map holds only live ones.
  std::string issue(const std::string& user, std::int64_t now_ms, std::int64_t ttl_ms);
  // The session of a live token; nullopt for an unknown or expired one.
  std::optional<Session> find(const std::string& token, std::int64_t now_ms) const;
  std::size_t live(std::int64_t now_ms) const;

  static constexpr std::size_t kMaxLive = 10000;  // the oldest go first beyond this

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Session> sessions_;
};

}  // namespace sy::api
