#pragma once
// The controller's API as plain values, with no HTTP library in sight: the server turns wire
// requests into ApiRequest and ApiResponse back into wire responses; handlers see only these.

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace sy::api {

// Who is at the other end of a connection, as the transport proves it.
struct Peer {
  enum class Transport { tcp, tls, local };
  Transport transport = Transport::tcp;
  std::string address;           // "ip:port", or "local"
  std::optional<unsigned> uid;   // local socket: the peer process's uid (SO_PEERCRED)
  std::string certificate_name;  // TLS: common name of the peer's verified certificate, or ""
};

struct ApiRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // percent-decoded, without the query
  std::map<std::string, std::string> query;    // percent-decoded; a repeated key keeps the last
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  Peer peer;
  // Set by the authenticator before any handler sees the request: the user name ("" when the
  // request proved no identity) and whether that user administers the cluster.
  std::string user;
  bool admin = false;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct ApiResponse {
  ApiResponse(int status_code = 200, nlohmann::json json = nullptr)
      : status(status_code), body(std::move(json)) {}
  int status = 200;
  nlohmann::json body;
  // Set for the few answers that are not JSON (/metrics, the dashboard's files): sent as is with
  // this content type.
  std::string text, content_type;
  std::map<std::string, std::string> headers;  // more header fields (Location, Cache-Control)
};

// Sets the request's path and query from a request target ("/v1/jobs?state=all&user=a%20b"),
// percent-decoded; in the query '+' is a space, and a repeated key keeps the last value.
void set_target(ApiRequest& request, std::string_view target);

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

// Who is asking, as the authenticator established it: 401 when nobody proved an identity.
Result<std::string, ApiResponse> requesting_user(const ApiRequest& request);
// The 403 for a user acting on what is not theirs.
ApiResponse not_yours(const std::string& what);
// The 403 for a user who is not an admin doing what only admins may (`what`: "drain nodes").
std::optional<ApiResponse> admins_only(const ApiRequest& request, const std::string& what);
// The body as a JSON object with no fields but `allowed` (the error names the first other one).
Result<nlohmann::json, ApiResponse> object_body(const ApiRequest& request,
                                                std::initializer_list<std::string_view> allowed);

}  // namespace sy::api
