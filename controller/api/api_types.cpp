#include "controller/api/api_types.hpp"

#include <regex>

namespace sy::api {

ApiResponse error_response(int status, std::string code, std::string message, std::string field) {
  nlohmann::json e{{"code", std::move(code)}, {"message", std::move(message)}};
  if (!field.empty()) e["field"] = std::move(field);
  return {status, nlohmann::json{{"error", std::move(e)}}};
}

// Who is asking. Until requests are authenticated (MUNGE / peer uid), the client says.
Result<std::string, ApiResponse> requesting_user(const ApiRequest& request) {
  static const std::regex name("[A-Za-z_][A-Za-z0-9._-]{0,63}");
  const std::string user = request.header("x-sy-user");
  if (user.empty()) {
    return fail(
        error_response(400, "missing_user", "the X-Sy-User header is required", "X-Sy-User"));
  }
  if (!std::regex_match(user, name)) {
    return fail(error_response(400, "bad_user", "X-Sy-User is not a user name", "X-Sy-User"));
  }
  return user;
}

Result<nlohmann::json, ApiResponse> object_body(const ApiRequest& request,
                                                std::initializer_list<std::string_view> allowed) {
  auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (!body.is_object())
    return fail(error_response(400, "bad_body", "the body must be a JSON object"));
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string names;
      for (const auto a : allowed)
        names += (names.empty() ? "" : ", ") + std::string(a);
      return fail(error_response(400, "bad_body", "unknown field (allowed: " + names + ")", key));
    }
  }
  return body;
}

}  // namespace sy::api
