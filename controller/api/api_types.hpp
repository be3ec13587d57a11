#pragma once
// The controller's API as plain values, with no HTTP library in sight: the server turns wire
// requests into ApiRequest and ApiResponse back into wire responses; handlers see only these.

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace sy::api {

struct ApiRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // percent-decoded, without the query
  std::map<std::string, std::string> query;    // percent-decoded; a repeated key keeps the last
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct ApiResponse {
  int status = 200;
  nlohmann::json body;
};

// Called exactly once per request, from any thread.
using Responder = std::function<void(ApiResponse)>;

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Answers `request` through `respond`, now or later (e.g. after a commit).
  virtual void handle(ApiRequest request, Responder respond) = 0;
};

// {"error": {"code": ..., "message": ..., "field": ...}}: the one error shape of the API.
ApiResponse error_response(int status, std::string code, std::string message,
                           std::string field = "");

// Who is asking: the X-Sy-User header, checked as a user name. Until requests are authenticated
// (MUNGE / peer uid), the client says.
Result<std::string, ApiResponse> requesting_user(const ApiRequest& request);
// The body as a JSON object with no fields but `allowed` (the error names the first other one).
Result<nlohmann::json, ApiResponse> object_body(const ApiRequest& request,
                                                std::initializer_list<std::string_view> allowed);

}  // namespace sy::api
