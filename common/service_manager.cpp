#include "common/service_manager.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

namespace sy::service {
namespace {

void notify(const std::string& state) {
  // 0: keep NOTIFY_SOCKET, which every later message needs. Errors are not ours to act on.
  (void)::sd_notify(0, state.c_str());
}

}  // namespace

void notify_ready(std::string_view status) {
  notify("READY=1\nSTATUS=" + std::string(status));
}

void notify_status(std::string_view status) {
  notify("STATUS=" + std::string(status));
}

void notify_reloading() {
  // systemd 253 and later match the reload by this timestamp; 252 ignores it.
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping(std::string_view status) {
  notify("STOPPING=1\nSTATUS=" + std::string(status));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

Watchdog::Watchdog(boost::asio::io_context& ioc) : timer_(ioc) {}

void Watchdog::start() {
  const auto interval = watchdog_interval();
  if (!interval) return;
  period_ = *interval / 2;
  notify("WATCHDOG=1");
  arm();
}

void Watchdog::stop() {
  period_ = std::chrono::microseconds(0);
  timer_.cancel();
}

void Watchdog::arm() {
  timer_.expires_after(period_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || period_.count() == 0) return;
    notify("WATCHDOG=1");
    arm();
  });
}

}  // namespace sy::service
