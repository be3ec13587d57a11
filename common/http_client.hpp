#pragma once
// A small blocking HTTP/1.1 client over one kept-alive connection (Boost.Beast underneath), plain,
// TLS or over a local socket, with a deadline on every request. Not thread-safe: one client per
// thread.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/endpoint.hpp"
#include "common/result.hpp"
#include "common/tls.hpp"

namespace sy {

struct HttpResponse {
  int status = 0;
  std::string body;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  HttpClient(Endpoint endpoint, std::chrono::milliseconds timeout);
  // `tls` is needed for a tls address: the server's certificate is checked against its CA and
  // the address's host name.
  HttpClient(ServerAddress address, std::chrono::milliseconds timeout, tls::Context tls = nullptr);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads its response. On a transport failure the error says what
  // happened in words ("connection refused", "timed out after 10s"). A request that fails
  // on a reused connection before any answer arrives is sent once more on a fresh one,
  // because servers close idle keep-alive connections at will.
  Result<HttpResponse, std::string> request(std::string_view method, std::string_view target,
                                            std::string_view body = {},
                                            const HttpHeaders& headers = {});
  const ServerAddress& address() const { return address_; }

 private:
  struct Impl;
  ServerAddress address_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy
