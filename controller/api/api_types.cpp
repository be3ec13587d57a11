#include "controller/api/api_types.hpp"

namespace sy::api {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
        hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

}  // namespace

void set_target(ApiRequest& request, std::string_view target) {
  const auto q = target.find('?');
  request.path = percent_decode(target.substr(0, q), false);
  request.query.clear();
  if (q == std::string_view::npos) return;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      request.query[percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

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
