#include "controller/api/session_api.hpp"

#include "common/units.hpp"

namespace sy::api {

void SessionApi::handle(ApiRequest request, Responder respond) {
  if (request.path != "/v1/sessions") {
    return respond(error_response(404, "no_such_endpoint", "no endpoint " + request.path));
  }
  if (request.method != "POST") {
    return respond(error_response(405, "method_not_allowed", "use POST"));
  }
  auto user = requesting_user(request);
  if (!user) return respond(std::move(user).error());
  std::int64_t ttl_s = kDefaultTtlS;
  if (!request.body.empty()) {
    auto body = object_body(request, {"ttl"});
    if (!body) return respond(std::move(body).error());
    if (body->contains("ttl")) {
      const auto& ttl = (*body)["ttl"];
      if (!ttl.is_string()) {
        return respond(error_response(400, "bad_body", "must be a duration like 30m or 8h", "ttl"));
      }
      auto seconds = parse_duration_seconds(ttl.get<std::string>());
      if (!seconds) return respond(error_response(400, "bad_body", seconds.error(), "ttl"));
      if (*seconds < kMinTtlS || *seconds > kMaxTtlS) {
        return respond(error_response(400, "bad_body", "must be from 1m to 7-00:00:00", "ttl"));
      }
      ttl_s = *seconds;
    }
  }
  const std::int64_t now = now_ms_();
  const std::string token = tokens_.issue(*user, now, ttl_s * 1000);
  nlohmann::json out{{"token", token},
                     {"user", *user},
                     {"expires_time", format_utc_ms(now + ttl_s * 1000)},
                     {"url", nullptr}};
  if (!base_url_.empty()) out["url"] = base_url_ + "/ui/#/?token=" + token;
  respond({201, std::move(out)});
}

}  // namespace sy::api
