#include "agent/manifest_fetch.hpp"

#include "common/dataset/manifest.hpp"
#include "common/log.hpp"

namespace sy::agent {

void ManifestFetch::start(protocol::StageOrder order) {
  const std::string request = order.request;
  auto& p = pending_.insert_or_assign(request, Pending{std::move(order), nlohmann::json::array()})
                .first->second;
  ask(p);
}

void ManifestFetch::ask(const Pending& p) {
  send_(protocol::manifest_request_message({.request = p.order.request,
                                            .dataset = p.order.dataset,
                                            .version = p.order.version,
                                            .from = static_cast<std::int64_t>(p.files.size())}));
}

void ManifestFetch::failed(const std::string& request, const std::string& why) {
  SY_LOG(warn, "staging") << "stage order " << request << ": " << why;
  pending_.erase(request);
  protocol::StageReport report;
  report.request = request;
  report.state = "failed";
  report.error_kind = "manifest";
  report.message = why;
  send_(protocol::stage_report_message(report));
}

void ManifestFetch::on_chunk(const protocol::ManifestChunk& chunk) {
  const auto it = pending_.find(chunk.request);
  if (it == pending_.end()) return;  // a fetch of a connection gone since
  Pending& p = it->second;
  const std::string what = p.order.dataset + "@" + p.order.version;
  if (!chunk.error.empty())
    return failed(chunk.request, "manifest of " + what + ": " + chunk.error);
  const auto have = static_cast<std::int64_t>(p.files.size());
  if (chunk.from != have || chunk.total != p.order.manifest_files.value_or(-1) ||
      (chunk.files.empty() && have < chunk.total) ||
      have + static_cast<std::int64_t>(chunk.files.size()) > chunk.total) {
    return failed(chunk.request, "manifest of " + what + ": a slice of files " +
                                     std::to_string(chunk.from) + ".." +
                                     std::to_string(chunk.from + std::ssize(chunk.files)) + " of " +
                                     std::to_string(chunk.total) + " does not follow the " +
                                     std::to_string(have) + " files received (of " +
                                     std::to_string(p.order.manifest_files.value_or(-1)) + ")");
  }
  for (const auto& f : chunk.files)
    p.files.push_back(f);
  if (static_cast<std::int64_t>(p.files.size()) < chunk.total) return ask(p);
  auto manifest =
      dataset::manifest_from_json({{"name", p.order.dataset}, {"files", std::move(p.files)}});
  if (!manifest) return failed(chunk.request, "manifest of " + what + ": " + manifest.error());
  if (manifest->version() != p.order.version) {
    return failed(chunk.request, "manifest of " + what + " hashes to version " +
                                     manifest->version() + ", not the one ordered");
  }
  protocol::StageOrder order = std::move(p.order);
  pending_.erase(it);
  order.manifest = std::move(manifest).value();
  ready_(std::move(order));
}

}  // namespace sy::agent
