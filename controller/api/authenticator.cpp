#include "controller/api/authenticator.hpp"

#include <pwd.h>

#include <regex>
#include <vector>

#include "common/munge_credential.hpp"

namespace sy::api {

std::string user_name_of(unsigned uid) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return "uid" + std::to_string(uid);
}

std::optional<ApiResponse> Authenticator::authenticate(ApiRequest& request) const {
  request.user.clear();
  request.admin = false;
  std::optional<unsigned> uid = request.peer.uid;
  const std::string authorization = request.header("authorization");
  if (!uid && authorization.rfind("MUNGE ", 0) == 0) {
    if (!options_.munge) {
      return error_response(401, "unauthenticated", "this controller does not accept MUNGE",
                            "Authorization");
    }
    auto who = munge::decode(authorization.substr(6), options_.munge_socket);
    if (!who) {
      return error_response(401, "unauthenticated", "bad credential: " + who.error(),
                            "Authorization");
    }
    uid = who->uid;
  }
  if (uid) {
    request.user = user_name_of(*uid);
    request.admin = *uid == 0 || options_.admins.count(request.user) > 0;
    return std::nullopt;
  }
  if (authorization.rfind("Bearer ", 0) == 0) {
    const auto session =
        tokens_ != nullptr ? tokens_->find(authorization.substr(7), now_ms_()) : std::nullopt;
    if (!session) {
      return error_response(401, "unauthenticated",
                            "unknown or expired session token: run sy dashboard for a new one",
                            "Authorization");
    }
    if (request.method != "GET") {
      return error_response(403, "read_only", "a dashboard session only reads (GET)",
                            "Authorization");
    }
    request.user = session->user;
    request.admin = is_admin(session->user);
    return std::nullopt;
  }
  if (options_.trust_user_header) {
    static const std::regex name("[A-Za-z_][A-Za-z0-9._-]{0,63}");
    const std::string user = request.header("x-sy-user");
    if (user.empty()) return std::nullopt;
    if (!std::regex_match(user, name)) {
      return error_response(400, "bad_user", "X-Sy-User is not a user name", "X-Sy-User");
    }
    request.user = user;
    request.admin = is_admin(user);
  }
  return std::nullopt;
}

}  // namespace sy::api
