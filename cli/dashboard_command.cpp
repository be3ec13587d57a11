// `sy dashboard`: opens a read-only session on the controller for the user running it and prints
// the web dashboard's address with the session's token in it. The browser then sees what this
// user sees through the API (their jobs; every job for an admin) until the token expires.
#include <iostream>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"

namespace sy::cli {

int cmd_dashboard(const ClientConfig& config, const DashboardOptions& o) {
  const std::string& ttl = o.ttl;
  const bool json = o.json;
  ApiClient api(config, current_user());
  auto session = api.open_session(ttl);
  if (!session) return failed(session.error());
  std::string url = session->value("url", std::string());
  // Reached over TCP, the address sy used is one this machine's browser can reach too; the
  // controller's own idea of its address is the fallback (sy on the local socket).
  if (config.controller.kind != ServerAddress::Kind::local) {
    const std::string scheme =
        config.controller.kind == ServerAddress::Kind::tls ? "https://" : "http://";
    url = scheme + config.controller.endpoint.to_string() +
          "/ui/#/?token=" + session->value("token", std::string());
    (*session)["url"] = url;
  }
  if (json) {
    std::cout << session->dump(2) << "\n";
    return 0;
  }
  if (url.empty()) return failed("the controller did not say where it listens");
  std::cout << "Dashboard for " << session->value("user", std::string("?")) << ", until "
            << session->value("expires_time", std::string("?")) << ":\n  " << url
            << "\nThe address holds a read-only session: whoever has it sees what you see.\n";
  return 0;
}

}  // namespace sy::cli
