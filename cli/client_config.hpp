#pragma once
// Where `sy` finds the controller: --controller, else $SY_CONTROLLER, else the config file
// ($SY_CONFIG, ~/.config/switchyard/sy.yaml, /etc/switchyard/sy.yaml), else 127.0.0.1:6820.

#include <chrono>
#include <string>

#include "common/endpoint.hpp"
#include "common/result.hpp"

namespace sy::cli {

struct ClientConfig {
  Endpoint controller{"127.0.0.1", kDefaultControllerPort};
  std::chrono::milliseconds timeout{30000};
};

// `flag` is the --controller value, empty if not given. Errors name their source.
Result<ClientConfig, std::string> resolve_client_config(const std::string& flag);

// The user this process runs as (its passwd name).
std::string current_user();

}  // namespace sy::cli
