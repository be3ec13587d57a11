#pragma once
// MetricsServer: the agent's GET /metrics, plain HTTP on the address --metrics-listen names
// (Prometheus' text format from `render`, built at each scrape). One request per connection;
// anything but GET /metrics gets 404 or 405. Runs on the agent's io_context.

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "common/endpoint.hpp"
#include "common/result.hpp"

namespace sy::agent {

class MetricsServer {
 public:
  MetricsServer(boost::asio::io_context& ioc, std::function<std::string()> render);
  ~MetricsServer();
  // Binds and starts accepting; the bound port (the one asked for, or the one port 0 chose).
  Result<int, std::string> listen(const Endpoint& at);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sy::agent
