#include "controller/api/api_types.hpp"

namespace sy::api {

ApiResponse error_response(int status, std::string code, std::string message, std::string field) {
  nlohmann::json e{{"code", std::move(code)}, {"message", std::move(message)}};
  if (!field.empty()) e["field"] = std::move(field);
  return {status, nlohmann::json{{"error", std::move(e)}}};
}

Result<std::string, ApiResponse> requesting_user(const ApiRequest& request) {
  if (request.user.empty()) {
    return fail(error_response(
        401, "unauthenticated",
        "who is asking is unknown: connect through the controller's local socket (unix:PATH) or "
        "send a MUNGE credential (Authorization: MUNGE ...)"));
  }
  return request.user;
}

ApiResponse not_yours(const std::string& what) {
  return error_response(403, "forbidden",
                        what + " belongs to another user (only its owner or an admin may)");
}

std::optional<ApiResponse> admins_only(const ApiRequest& request, const std::string& what) {
  if (request.admin) return std::nullopt;
  return error_response(
      403, "forbidden",
      "only admins may " + what + " (" + request.user + " is not one; see auth.admins)");
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
