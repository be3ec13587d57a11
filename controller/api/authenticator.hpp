#pragma once
// Authenticator: establishes who sent each request before any handler sees it. The local socket
// proves the peer's uid (SO_PEERCRED); elsewhere a MUNGE credential does, or for a browser a
// dashboard session's bearer token (GET only: sessions read). Only a controller run with
// --insecure (local development) believes the X-Sy-User header instead.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "controller/api/api_types.hpp"
#include "controller/api/session_tokens.hpp"

namespace sy::api {

struct AuthOptions {
  bool trust_user_header = false;
  bool munge = true;             // accept MUNGE credentials
  std::string munge_socket;      // empty: munged's default
  std::set<std::string> admins;  // root always administers
};

class Authenticator {
 public:
  explicit Authenticator(AuthOptions options) : options_(std::move(options)) {}
  // Fills request.user and request.admin. A credential that was sent but does not hold is an
  // error (401), never a silent fall back to anonymous.
  std::optional<ApiResponse> authenticate(ApiRequest& request) const;
  // The configuration was reloaded (SIGHUP).
  void set_admins(std::set<std::string> admins) { options_.admins = std::move(admins); }
  // Accepts `Authorization: Bearer TOKEN` for the sessions `tokens` holds.
  void set_sessions(const SessionTokens& tokens, std::function<std::int64_t()> now_ms) {
    tokens_ = &tokens;
    now_ms_ = std::move(now_ms);
  }
  bool is_admin(const std::string& user) const {
    return user == "root" || options_.admins.count(user) > 0;
  }

 private:
  AuthOptions options_;
  const SessionTokens* tokens_ = nullptr;
  std::function<std::int64_t()> now_ms_;
};

// The passwd name of `uid`, or "uidN" for a uid with none.
std::string user_name_of(unsigned uid);

}  // namespace sy::api
