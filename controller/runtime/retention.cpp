#include "controller/runtime/retention.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <ctime>
#include <fstream>
#include <memory>

#include "common/log.hpp"

namespace sy::runtime {
namespace {

constexpr std::size_t kBatch = 2000;  // jobs per transaction

// STATE/archive/jobs-YYYY-MM.jsonl, by the month the sweep runs in (UTC).
std::filesystem::path archive_file(const std::filesystem::path& dir, std::int64_t now_ms) {
  const std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char name[32];
  std::strftime(name, sizeof name, "jobs-%Y-%m.jsonl", &utc);
  return dir / name;
}

}  // namespace

Retention::Retention(boost::asio::io_context& ioc, store::CommitQueue& writes, JobLogs& logs,
                     std::filesystem::path archive_dir, std::int64_t keep_ms, Clock now_ms)
    : ioc_(ioc),
      writes_(writes),
      logs_(logs),
      archive_dir_(std::move(archive_dir)),
      keep_ms_(keep_ms),
      now_ms_(std::move(now_ms)),
      timer_(ioc) {}

// A tenth of the age, between a second and ten minutes: a job is pruned at most 10% late.
std::chrono::milliseconds Retention::interval() const {
  return std::chrono::milliseconds(std::clamp<std::int64_t>(keep_ms_ / 10, 1000, 600'000));
}

void Retention::start() {
  if (keep_ms_ <= 0) return;
  boost::asio::post(ioc_, [this] { sweep(); });
}

void Retention::stop() {
  boost::asio::post(ioc_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void Retention::schedule() {
  if (stopped_) return;
  timer_.expires_after(interval());
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) sweep();
  });
}

void Retention::sweep() {
  if (stopped_) return;
  batch(now_ms_() - keep_ms_, 0);
}

void Retention::batch(std::int64_t before_ms, std::size_t pruned_so_far) {
  if (stopped_) return;
  const auto file = archive_file(archive_dir_, now_ms_());
  auto pruned = std::make_shared<std::vector<JobId>>();
  writes_.submit(
      [before_ms, file, pruned](store::Stores& s) -> Result<void, store::StoreError> {
        // Archived before the rows go: a crash in between archives a job twice, never loses it.
        auto keep = [&file](const std::vector<JobRecord>& jobs) -> Result<void, store::StoreError> {
          std::error_code ec;
          std::filesystem::create_directories(file.parent_path(), ec);
          std::ofstream out(file, std::ios::app);
          for (const auto& job : jobs)
            out << job_record_to_json(job).dump() << '\n';
          if (!out.flush())
            return fail(store::StoreError::internal("cannot write " + file.string()));
          return {};
        };
        auto ids = s.jobs.prune_ended(before_ms, kBatch, keep);
        if (!ids) return fail(std::move(ids).error());
        *pruned = std::move(ids).value();
        return {};
      },
      [this, before_ms, pruned, pruned_so_far](Result<void, store::StoreError> committed) {
        boost::asio::post(ioc_, [this, before_ms, pruned, pruned_so_far, committed] {
          if (!committed) {
            SY_LOG(error, "store") << "retention: " << committed.error().message;
            return schedule();
          }
          for (JobId id : *pruned)
            logs_.forget(id);
          const std::size_t total = pruned_so_far + pruned->size();
          if (pruned->size() == kBatch) return batch(before_ms, total);  // more to go
          if (total > 0) {
            SY_LOG(info, "store") << "retention: " << total << " ended jobs archived to "
                                  << archive_dir_.string() << " and pruned";
          }
          if (on_swept_) on_swept_(total);
          schedule();
        });
      });
}

}  // namespace sy::runtime
