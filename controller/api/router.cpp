#include "controller/api/router.hpp"

#include "controller/store/migrations.hpp"

namespace sy::api {

void ApiRouter::handle(ApiRequest request, Responder respond) {
  if (request.path == "/v1/health") {
    if (request.method != "GET")
      return respond(error_response(405, "method_not_allowed", "use GET"));
    return respond({200,
                    {{"status", "ok"},
                     {"version", SY_VERSION},
                     {"schema_version", store::latest_schema_version()}}});
  }
  for (const auto& [path, handler] : public_) {
    if (request.path == path || (path != "/" && request.path.rfind(path + "/", 0) == 0)) {
      return handler->handle(std::move(request), std::move(respond));
    }
  }
  if (auto refused = authenticator_.authenticate(request)) return respond(std::move(*refused));
  // Everything but health names its user: jobs, nodes and datasets are not for strangers.
  if (auto user = requesting_user(request); !user) return respond(std::move(user).error());
  for (const auto& [prefix, handler] : routes_) {
    if (request.path == prefix || request.path.rfind(prefix + "/", 0) == 0) {
      return handler->handle(std::move(request), std::move(respond));
    }
  }
  respond(error_response(404, "no_such_endpoint",
                         "no endpoint " + request.method + " " + request.path));
}

}  // namespace sy::api
