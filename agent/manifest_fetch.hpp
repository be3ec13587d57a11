#pragma once
// ManifestFetch: a stage order that names its manifest instead of carrying it (a copy to make of
// a large dataset) waits here while its manifest comes from the controller, one slice at a time
// (manifest_request -> manifest_chunk); complete, it is checked whole (every path, the version
// it must hash to) and goes to the stager. A fetch that cannot finish is reported as a failed
// stage. Fetches die with the connection: the controller orders the stage again.
//
// Used on the controller link's thread only.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/agent_protocol.hpp"

namespace sy::agent {

class ManifestFetch {
 public:
  using Send = std::function<void(nlohmann::json)>;
  using Ready = std::function<void(protocol::StageOrder)>;  // the order with its manifest
  ManifestFetch(Send send, Ready ready) : send_(std::move(send)), ready_(std::move(ready)) {}

  // An order with manifest_files and no manifest.
  void start(protocol::StageOrder order);
  void on_chunk(const protocol::ManifestChunk& chunk);
  void connection_lost() { pending_.clear(); }
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    protocol::StageOrder order;
    nlohmann::json files = nlohmann::json::array();
  };
  void ask(const Pending& p);
  void failed(const std::string& request, const std::string& why);

  Send send_;
  Ready ready_;
  std::map<std::string, Pending> pending_;  // by the order's request id
};

}  // namespace sy::agent
