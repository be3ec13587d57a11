#include "common/endpoint.hpp"

#include <charconv>

namespace sy {

std::string Endpoint::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Endpoint, std::string> parse_endpoint(std::string_view text, std::uint16_t default_port) {
  const std::string original(text);
  auto bad = [&](const std::string& why) {
    return fail("'" + original + "' is not an address (want HOST:PORT): " + why);
  };
  if (text.rfind("https://", 0) == 0) return bad("use it as a client address (sy, sy-agent)");
  if (text.rfind("http://", 0) == 0) text.remove_prefix(7);
  while (!text.empty() && text.back() == '/')
    text.remove_suffix(1);
  Endpoint ep;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    ep.host = std::string(text.substr(1, close - 1));
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':' after ']'");
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon)
      return bad("put IPv6 hosts in [ ]");
    ep.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
  }
  if (ep.host.empty()) return bad("no host");
  ep.port = default_port;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || value > 65535) {
      return bad("bad port");
    }
    ep.port = static_cast<std::uint16_t>(value);
  }
  return ep;
}

std::string ServerAddress::to_string() const {
  switch (kind) {
    case Kind::local:
      return "unix:" + socket_path;
    case Kind::tls:
      return "https://" + endpoint.to_string();
    case Kind::tcp:
      break;
  }
  return endpoint.to_string();
}

Result<ServerAddress, std::string> parse_server_address(std::string_view text,
                                                        std::uint16_t default_port) {
  ServerAddress out;
  if (text.rfind("unix:", 0) == 0) {
    out.kind = ServerAddress::Kind::local;
    out.socket_path = std::string(text.substr(5));
    if (out.socket_path.empty() || out.socket_path.front() != '/') {
      return fail("'" + std::string(text) +
                  "': a local socket needs an absolute path (unix:/PATH)");
    }
    return out;
  }
  if (text.rfind("https://", 0) == 0) {
    out.kind = ServerAddress::Kind::tls;
    text.remove_prefix(8);
  }
  auto ep = parse_endpoint(text, default_port);
  if (!ep) return fail(std::move(ep).error());
  out.endpoint = std::move(ep).value();
  return out;
}

}  // namespace sy
