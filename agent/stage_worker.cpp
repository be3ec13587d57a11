#include "agent/stage_worker.hpp"

#include "agent/staging/stage_record.hpp"
#include "common/log.hpp"
#include "plugins/staging/staging_backend.hpp"

namespace sy::agent {

std::vector<protocol::CachedDataset> cache_contents(const staging::Tier0Cache& cache) {
  std::vector<protocol::CachedDataset> held;
  for (const auto& c : cache.list())
    held.push_back({.name = c.name, .version = c.version, .bytes = c.bytes});
  return held;
}

StageWorker::StageWorker(staging::Tier0Cache& cache, Send send, int parallel)
    : cache_(cache),
      send_(std::move(send)),
      parallel_(parallel),
      thread_([this](const std::stop_token& stop) { loop(stop); }) {}

StageWorker::~StageWorker() {
  cancel_ = true;
  thread_.request_stop();
  wake_.notify_all();
}

void StageWorker::order(protocol::StageOrder order) {
  {
    const std::scoped_lock lock(mutex_);
    orders_.push_back(std::move(order));
  }
  wake_.notify_one();
}

void StageWorker::loop(const std::stop_token& stop) {
  while (true) {
    protocol::StageOrder next;
    {
      std::unique_lock lock(mutex_);
      if (!wake_.wait(lock, stop, [this] { return !orders_.empty(); })) return;
      next = std::move(orders_.front());
      orders_.pop_front();
    }
    run(next);
  }
}

void StageWorker::run(const protocol::StageOrder& order) {
  const std::string what = order.dataset + "@" + order.version;
  protocol::StageReport report;
  report.request = order.request;
  report.state = "staging";
  // A check order for a copy verified since this agent started and untouched since: done.
  if (!order.manifest) {
    if (const auto held = cache_.untouched(order.dataset, order.version)) {
      report.state = "done";
      report.bytes_done = report.bytes_total = held->bytes;
      report.files_done = report.files_total = held->files;
      report.cache = cache_contents(cache_);
      count(report);
      SY_LOG(debug, "staging") << what << ": untouched since it was verified";
      return send_(protocol::stage_report_message(report));
    }
  }
  // A check order: the manifest is the one the copy was verified against.
  const auto record =
      order.manifest
          ? nullptr
          : staging::record_of_version(cache_.path_of(order.dataset, order.version), order.version);
  const dataset::Manifest* manifest = order.manifest ? &*order.manifest
                                      : record       ? &record->manifest
                                                     : nullptr;
  if (manifest == nullptr) {
    report.state = "failed";
    report.error_kind = "missing";
    report.message = what + " is not in this node's Tier-0 cache";
    count(report);
    return send_(protocol::stage_report_message(report));
  }
  report.bytes_total = manifest->total_bytes();
  report.files_total = static_cast<std::int64_t>(manifest->files.size());
  auto backend = staging::make_staging_backend(order.source);
  if (!backend) {
    report.state = "failed";
    report.error_kind = "source";
    report.message = backend.error();
    count(report);
    return send_(protocol::stage_report_message(report));
  }
  SY_LOG(info, "staging") << what << ": staging from " << order.source << " (request "
                          << order.request << ")";
  send_(protocol::stage_report_message(report));
  auto outcome = cache_.stage(
      *manifest, *backend.value(), parallel_,
      [&](const staging::StageProgress& p) {
        report.bytes_done = p.bytes_done;
        report.files_done = p.files_done;
        report.seconds = p.seconds;
        send_(protocol::stage_report_message(report));
      },
      &cancel_, record);
  if (!outcome) {
    report.state = "failed";
    report.error_kind = staging::kind_name(outcome.error().kind);
    report.message = outcome.error().message;
    SY_LOG(warn, "staging") << what << ": " << report.error_kind << ": " << report.message;
  } else {
    report.state = "done";
    report.bytes_done = report.bytes_total;
    report.files_done = report.files_total;
    report.bytes_copied = outcome->bytes_copied;
    report.cache = cache_contents(cache_);
    SY_LOG(info, "staging") << what << ": "
                            << (outcome->unchanged
                                    ? "already staged"
                                    : "staged, " + std::to_string(outcome->files_copied) +
                                          " files copied, " + std::to_string(outcome->files_kept) +
                                          " kept");
  }
  count(report);
  send_(protocol::stage_report_message(report));
}

void StageWorker::count(const protocol::StageReport& report) {
  const std::scoped_lock lock(totals_mutex_);
  if (report.state == "failed") {
    ++totals_.failed;
  } else if (report.bytes_copied == 0) {
    ++totals_.hits;
  } else {
    ++totals_.copied;
    totals_.bytes_copied += report.bytes_copied;
  }
}

StageWorker::Totals StageWorker::totals() const {
  const std::scoped_lock lock(totals_mutex_);
  return totals_;
}

}  // namespace sy::agent
