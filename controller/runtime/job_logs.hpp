#pragma once
// JobLogs: every job's output as its agents ship it (lines labelled with their rank), one file
// per job, STATE/logs/JOB.log, so `sy logs` reads it from the controller while the job runs and
// after its nodes are gone. Each node's log arrives in order from the byte its agent last heard
// acknowledged; a slice already kept (resent after a reconnect) is not kept twice. Thread-safe.

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/agent_protocol.hpp"

namespace sy::runtime {

class JobLogs {
 public:
  explicit JobLogs(std::filesystem::path dir);
  // Keeps a node's slice; returns how far that node's log is kept (what to acknowledge).
  std::int64_t append(const std::string& node, const protocol::JobOutput& output);

  struct Slice {
    std::string text;
    std::int64_t next = 0;  // where the next read starts
  };
  // Up to `max` bytes from `offset`, cut at a line's end when there is one.
  Slice read(std::int64_t job, std::int64_t offset, std::int64_t max) const;
  // The last lines of the log, at most `max` bytes, from the start of a line; `offset` is where
  // they begin (follow on with read(job, next, ...)).
  struct Tail {
    std::int64_t offset = 0;
    Slice slice;
  };
  Tail tail(std::int64_t job, std::int64_t max) const;
  // Retention: the job's log and what is known of it go.
  void forget(std::int64_t job);

 private:
  std::filesystem::path file_of(std::int64_t job) const;
  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> kept_;  // node log kept up to
};

}  // namespace sy::runtime
