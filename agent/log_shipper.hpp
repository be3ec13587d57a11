#pragma once
// LogShipper: sends a job's log on this node to the controller, which keeps every job's output
// (so `sy logs` works from anywhere and after the node is gone). Slices go in order; the
// controller acknowledges how far it keeps the log, and after a reconnect the shipper starts
// again from there, so nothing is lost to a dropped connection. Thread-safe.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>

#include <nlohmann/json.hpp>

namespace sy::agent {

class LogShipper {
 public:
  using Send = std::function<void(nlohmann::json)>;
  LogShipper(std::int64_t job, std::filesystem::path log, Send send)
      : job_(job), log_(std::move(log)), send_(std::move(send)) {}

  // Sends what is new: whole lines, or everything when `all` (the job has ended).
  void ship(bool all = false);
  void acknowledged(std::int64_t end);
  void rewind();  // the connection was made again: resend from what the controller has

 private:
  std::int64_t job_;
  std::filesystem::path log_;
  Send send_;
  std::mutex mutex_;
  std::int64_t sent_ = 0, acked_ = 0;
  bool ended_ = false;  // shipped with `all`: the last line goes too
};

}  // namespace sy::agent
