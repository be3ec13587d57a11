#pragma once
// Retention: ended jobs older than the configured age leave the database, so that a controller
// that has run a million jobs reads and writes as fast as a new one. Each sweep prunes in
// bounded batches through the commit queue (a batch never holds the writer long); the records
// (job, spec, placement, events) are appended to STATE/archive/jobs-YYYY-MM.jsonl first, and
// the jobs' logs are deleted once the batch is committed. Ended jobs younger than the age stay
// in `sy queue --all` and `sy show`.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "controller/runtime/job_logs.hpp"
#include "controller/store/commit_queue.hpp"

namespace sy::runtime {

class Retention {
 public:
  using Clock = std::function<std::int64_t()>;
  // keep_ms 0: keep everything (no sweeps).
  Retention(boost::asio::io_context& ioc, store::CommitQueue& writes, JobLogs& logs,
            std::filesystem::path archive_dir, std::int64_t keep_ms, Clock now_ms);
  void start();  // sweeps now, then every interval()
  void stop();
  std::chrono::milliseconds interval() const;
  // Called after each sweep with the number of jobs it pruned (tests, metrics).
  void set_on_swept(std::function<void(std::size_t)> f) { on_swept_ = std::move(f); }

 private:
  void sweep();
  void batch(std::int64_t before_ms, std::size_t pruned_so_far);
  void schedule();

  boost::asio::io_context& ioc_;
  store::CommitQueue& writes_;
  JobLogs& logs_;
  std::filesystem::path archive_dir_;
  std::int64_t keep_ms_;
  Clock now_ms_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  std::function<void(std::size_t)> on_swept_;
};

}  // namespace sy::runtime
