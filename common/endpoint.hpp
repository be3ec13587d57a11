#pragma once
// Where a server listens or a client connects: "127.0.0.1:6820", "http://host:6820", "[::1]:6820";
// and how a client reaches the controller: "https://host:6820", "unix:/run/switchyard/sy.sock".

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sy {

inline constexpr std::uint16_t kDefaultControllerPort = 6820;

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;  // "host:port", IPv6 hosts in brackets
};

// Port 0 is allowed (a listener asks the kernel for a free port). A missing port is
// `default_port`. Errors read "... is not an address (want HOST:PORT)".
Result<Endpoint, std::string> parse_endpoint(std::string_view text, std::uint16_t default_port);

struct ServerAddress {
  enum class Kind { tcp, tls, local };
  Kind kind = Kind::tcp;
  Endpoint endpoint;              // tcp and tls
  std::string socket_path;        // local
  std::string to_string() const;  // as parse_server_address reads it
};

// "unix:PATH" (a local socket), "https://HOST:PORT" (TLS), "http://HOST:PORT" or "HOST:PORT"
// (plain TCP).
Result<ServerAddress, std::string> parse_server_address(std::string_view text,
                                                        std::uint16_t default_port);

}  // namespace sy
