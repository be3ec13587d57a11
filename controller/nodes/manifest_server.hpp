#pragma once
// ManifestServer: hands agents the manifest of a dataset version in slices. A stage order names
// the version it copies instead of carrying its manifest (a dataset of 500,000 files has a
// manifest of ~60 MB of JSON, past any sane WebSocket message); the agent asks for the files
// from index N on (manifest_request) and gets the next slice (manifest_chunk, about 1 MiB), one
// at a time, so a connection never holds more than one slice per order.
//
// Manifests are read and parsed on the server's own thread (never the io thread), and the last
// few are kept, so a dataset staged to a thousand nodes is read from the database once.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/agent_protocol.hpp"
#include "common/dataset/manifest.hpp"
#include "controller/store/dataset_store.hpp"

namespace sy::nodes {

class ManifestServer {
 public:
  // Sends a message to a node's agent (thread-safe; false when it is not connected).
  using Send = std::function<bool(const std::string& node, const nlohmann::json& message)>;
  // `reads` is used only by the server's thread; it must outlive the server.
  ManifestServer(store::DatasetStore& reads, Send send);
  ~ManifestServer();  // stop()s
  ManifestServer(const ManifestServer&) = delete;
  ManifestServer& operator=(const ManifestServer&) = delete;

  // Thread-safe: answers the request on the server's thread.
  void request(const std::string& node, protocol::ManifestRequest r);
  void stop();  // drops what is queued; idempotent

  // The slice of `manifest` from `from` on: as many files as fit in about `budget_bytes` of
  // JSON, at least one. Pure: the server's rule, shown to tests.
  static protocol::ManifestChunk slice(const dataset::Manifest& manifest, std::int64_t from,
                                       std::size_t budget_bytes = kChunkBytes);
  static constexpr std::size_t kChunkBytes = 1 << 20;

 private:
  void run();
  protocol::ManifestChunk answer(const protocol::ManifestRequest& r);

  store::DatasetStore& reads_;
  Send send_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::string, protocol::ManifestRequest>> queue_;
  bool stopping_ = false;
  // Server thread only: the manifests read last, newest first, by "name@version".
  std::list<std::pair<std::string, std::shared_ptr<const dataset::Manifest>>> cache_;
  std::thread thread_;
};

}  // namespace sy::nodes
