#include "controller/nodes/manifest_server.hpp"

#include <pthread.h>

#include "common/log.hpp"

namespace sy::nodes {
namespace {
constexpr std::size_t kCached = 4;  // manifests kept parsed
// A file entry's JSON beyond its path: sizes, mtime, digest and punctuation.
constexpr std::size_t kEntryOverhead = 96;
}  // namespace

ManifestServer::ManifestServer(store::DatasetStore& reads, Send send)
    : reads_(reads), send_(std::move(send)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sy-manifests");
    run();
  });
}

ManifestServer::~ManifestServer() {
  stop();
}

void ManifestServer::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void ManifestServer::request(const std::string& node, protocol::ManifestRequest r) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    queue_.emplace_back(node, std::move(r));
  }
  wake_.notify_one();
}

void ManifestServer::run() {
  while (true) {
    std::pair<std::string, protocol::ManifestRequest> next;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    auto chunk = answer(next.second);
    if (!chunk.error.empty()) {
      SY_LOG(warn, "datasets") << "node " << next.first << ": manifest of " << next.second.dataset
                               << "@" << next.second.version << ": " << chunk.error;
    }
    send_(next.first, protocol::manifest_chunk_message(chunk));
  }
}

protocol::ManifestChunk ManifestServer::answer(const protocol::ManifestRequest& r) {
  const std::string key = r.dataset + "@" + r.version;
  std::shared_ptr<const dataset::Manifest> manifest;
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->first != key) continue;
    manifest = it->second;
    cache_.splice(cache_.begin(), cache_, it);
    break;
  }
  protocol::ManifestChunk failed;
  failed.request = r.request;
  if (!manifest) {
    auto read = reads_.manifest(r.dataset, r.version);
    if (!read) {
      failed.error = "cannot read it: " + read.error().message;
      return failed;
    }
    if (!read.value()) {
      failed.error = "dataset " + r.dataset + " has no version " + r.version;
      return failed;
    }
    manifest = std::make_shared<const dataset::Manifest>(std::move(*read.value()));
    cache_.emplace_front(key, manifest);
    if (cache_.size() > kCached) cache_.pop_back();
  }
  if (r.from > static_cast<std::int64_t>(manifest->files.size())) {
    failed.error = "asked from file " + std::to_string(r.from) + " of " +
                   std::to_string(manifest->files.size());
    return failed;
  }
  auto chunk = slice(*manifest, r.from);
  chunk.request = r.request;
  return chunk;
}

protocol::ManifestChunk ManifestServer::slice(const dataset::Manifest& manifest, std::int64_t from,
                                              std::size_t budget_bytes) {
  protocol::ManifestChunk chunk;
  chunk.from = from;
  chunk.total = static_cast<std::int64_t>(manifest.files.size());
  std::size_t bytes = 0;
  for (auto i = static_cast<std::size_t>(from); i < manifest.files.size(); ++i) {
    const std::size_t entry = manifest.files[i].path.size() + kEntryOverhead;
    if (!chunk.files.empty() && bytes + entry > budget_bytes) break;
    bytes += entry;
    chunk.files.push_back(dataset::to_json(manifest.files[i]));
  }
  return chunk;
}

}  // namespace sy::nodes
