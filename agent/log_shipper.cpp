#include "agent/log_shipper.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "agent/staging/beneath.hpp"
#include "common/agent_protocol.hpp"

namespace sy::agent {
namespace {
constexpr std::int64_t kSlice = 64 * 1024;
// Slices in flight before waiting for acknowledgements: bounds what a slow controller holds.
constexpr std::int64_t kWindow = 16 * kSlice;
}  // namespace

void LogShipper::ship(bool all) {
  const std::scoped_lock lock(mutex_);
  all = all || ended_;
  ended_ = all;
  const staging::Fd fd(::open(log_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return;
  while (sent_ - acked_ < kWindow) {
    std::string buf(static_cast<std::size_t>(kSlice), '\0');
    const ssize_t n = ::pread(fd.get(), buf.data(), buf.size(), sent_);
    if (n <= 0) return;
    buf.resize(static_cast<std::size_t>(n));
    // Only whole lines while the job writes; a slice of a full buffer may cut one.
    if (!all && n < kSlice) {
      const auto nl = buf.rfind('\n');
      if (nl == std::string::npos) return;
      buf.resize(nl + 1);
    }
    const std::int64_t end = sent_ + static_cast<std::int64_t>(buf.size());
    send_(protocol::job_output_message(
        {.job = job_, .offset = sent_, .end = end, .text = utf8_text(buf)}));
    sent_ = end;
  }
}

void LogShipper::acknowledged(std::int64_t end) {
  {
    const std::scoped_lock lock(mutex_);
    if (end <= acked_) return;
    acked_ = std::min(end, sent_);
  }
  ship();
}

void LogShipper::rewind() {
  {
    const std::scoped_lock lock(mutex_);
    sent_ = acked_;
  }
  ship();
}

}  // namespace sy::agent
