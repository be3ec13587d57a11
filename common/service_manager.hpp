#pragma once
// Telling systemd how a daemon is doing (sd_notify): started by a Type=notify unit the daemon
// reports when it is ready, reloading and stopping, and pings the watchdog from its event loop,
// so a loop that stalls gets the service restarted. Outside systemd (no NOTIFY_SOCKET) every
// call does nothing.

#include <chrono>
#include <optional>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace sy::service {

void notify_ready(std::string_view status);
void notify_status(std::string_view status);
// Before re-reading the configuration; notify_ready again when done.
void notify_reloading();
void notify_stopping(std::string_view status);

// The interval systemd expects watchdog pings within (WatchdogSec=), when it watches us.
std::optional<std::chrono::microseconds> watchdog_interval();

// Pings the watchdog at half its interval from `ioc`'s own loop.
class Watchdog {
 public:
  explicit Watchdog(boost::asio::io_context& ioc);
  void start();  // does nothing when systemd set no watchdog
  void stop();

 private:
  void arm();
  boost::asio::steady_timer timer_;
  std::chrono::microseconds period_{0};
};

}  // namespace sy::service
