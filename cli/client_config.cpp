#include "cli/client_config.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "common/document.hpp"
#include "common/schema_validator.hpp"
#include "common/tls.hpp"

namespace sy::cli {
namespace {

// A file that cannot even be looked at (HOME another user's, as under sudo -u or setpriv) counts
// as absent rather than ending the program.
bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::string config_file_path() {
  if (const char* explicit_path = std::getenv("SY_CONFIG"); explicit_path && *explicit_path) {
    return explicit_path;
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    const std::string user_file = std::string(home) + "/.config/switchyard/sy.yaml";
    if (exists(user_file)) return user_file;
  }
  const std::string system_file = "/etc/switchyard/sy.yaml";
  return exists(system_file) ? system_file : std::string();
}

}  // namespace

ServerAddress default_controller_address() {
  ServerAddress address;
  address.kind = ServerAddress::Kind::local;
  address.socket_path = kDefaultControllerSocket;
  return address;
}

Result<ClientConfig, std::string> resolve_client_config(const std::string& flag) {
  ClientConfig config;
  std::string address;
  std::string source;
  const std::string file = config_file_path();
  if (!file.empty()) {
    auto doc = load_yaml_file(file);
    if (!doc) return fail(doc.error().to_string());
    static const auto schema = SchemaValidator::builtin("cli-config.schema.json");
    if (auto valid = schema->validate(doc.value()); !valid) return fail(valid.error().to_string());
    if (doc->root().contains("controller")) {
      address = doc->root()["controller"].get<std::string>();
      source = file;
    }
    config.tls_ca = doc->root().value("tls_ca", std::string());
    config.munge_socket = doc->root().value("munge_socket", std::string());
    if (doc->root().contains("timeout_s")) {
      config.timeout = std::chrono::seconds(doc->root()["timeout_s"].get<int>());
    }
  }
  if (const char* env = std::getenv("SY_CONTROLLER"); env && *env) {
    address = env;
    source = "SY_CONTROLLER";
  }
  if (!flag.empty()) {
    address = flag;
    source = "--controller";
  }
  if (const char* ca = std::getenv("SY_TLS_CA"); ca && *ca) config.tls_ca = ca;
  if (!address.empty()) {
    auto parsed = parse_server_address(address, kDefaultControllerPort);
    if (!parsed) return fail(source + ": " + parsed.error());
    config.controller = parsed.value();
  }
  if (config.controller.kind == ServerAddress::Kind::tls && config.tls_ca.empty()) {
    return fail(source + ": https needs the cluster CA's certificate (SY_TLS_CA or tls_ca in " +
                "the configuration file)");
  }
  if (config.controller.kind == ServerAddress::Kind::tls) {
    if (auto ctx = tls::client_context({config.tls_ca, "", ""}); !ctx) return fail(ctx.error());
  }
  return config;
}

std::string current_user() {
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name) return pw->pw_name;
  if (const char* user = std::getenv("USER"); user && *user) return user;
  return "uid" + std::to_string(::getuid());
}

}  // namespace sy::cli
