#pragma once
// Where `sy` finds the controller: --controller, else $SY_CONTROLLER, else the config file
// ($SY_CONFIG, ~/.config/switchyard/sy.yaml, /etc/switchyard/sy.yaml), else the controller's
// local socket (unix:/var/lib/switchyard/sy.sock). The CA for https comes from $SY_TLS_CA or the
// file's tls_ca.

#include <chrono>
#include <string>

#include "common/endpoint.hpp"
#include "common/result.hpp"

namespace sy::cli {

inline constexpr const char* kDefaultControllerSocket = "/var/lib/switchyard/sy.sock";

// unix:/var/lib/switchyard/sy.sock. A function, not a brace initialiser: GCC 12 at -O3 took the
// latter's empty endpoint for uninitialised memory (-Werror=maybe-uninitialized).
ServerAddress default_controller_address();

struct ClientConfig {
  ServerAddress controller = default_controller_address();
  std::chrono::milliseconds timeout{30000};
  std::string tls_ca;
  std::string munge_socket;  // empty: munged's default
};

// `flag` is the --controller value, empty if not given. Errors name their source.
Result<ClientConfig, std::string> resolve_client_config(const std::string& flag);

// The user this process runs as (its passwd name).
std::string current_user();

}  // namespace sy::cli
