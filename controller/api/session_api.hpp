#pragma once
// SessionApi: POST /v1/sessions, which `sy dashboard` calls to open the web dashboard as its
// user. Body (optional): {"ttl": "8h"} (1 minute to 7 days; default 12 hours). Answers 201
// {"token", "user", "expires_time", "url"}: `url` is the dashboard's address with the token in
// its fragment (which browsers never send to servers or in Referer headers).

#include <cstdint>
#include <functional>
#include <string>

#include "controller/api/api_types.hpp"
#include "controller/api/session_tokens.hpp"

namespace sy::api {

class SessionApi : public RequestHandler {
 public:
  using Clock = std::function<std::int64_t()>;
  SessionApi(SessionTokens& tokens, Clock now_ms) : tokens_(tokens), now_ms_(std::move(now_ms)) {}
  void handle(ApiRequest request, Responder respond) override;
  // Where browsers reach this controller ("https://host:port"), once it listens.
  void set_base_url(std::string url) { base_url_ = std::move(url); }

  static constexpr std::int64_t kDefaultTtlS = 12 * 3600, kMinTtlS = 60, kMaxTtlS = 7 * 86400;

 private:
  SessionTokens& tokens_;
  Clock now_ms_;
  std::string base_url_;
};

}  // namespace sy::api
