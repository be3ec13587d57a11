#pragma once
// ApiRouter: authenticates each request, sends it to the handler that owns its path prefix, and
// answers /v1/health itself.

#include <string>
#include <utility>
#include <vector>

#include "controller/api/api_types.hpp"
#include "controller/api/authenticator.hpp"

namespace sy::api {

class ApiRouter : public RequestHandler {
 public:
  explicit ApiRouter(Authenticator authenticator) : authenticator_(std::move(authenticator)) {}
  // `prefix` matches the path itself and anything under "prefix/".
  void add(std::string prefix, RequestHandler& handler) {
    routes_.emplace_back(std::move(prefix), &handler);
  }
  // Served without naming a user, as /v1/health: only for paths that give away nothing about
  // users or their jobs (/metrics: counts; /ui: the dashboard's static files). Matches as `add`
  // does, but "/" matches only itself.
  void add_public(std::string path, RequestHandler& handler) {
    public_.emplace_back(std::move(path), &handler);
  }
  void handle(ApiRequest request, Responder respond) override;
  Authenticator& authenticator() { return authenticator_; }

 private:
  Authenticator authenticator_;
  std::vector<std::pair<std::string, RequestHandler*>> routes_, public_;
};

}  // namespace sy::api
