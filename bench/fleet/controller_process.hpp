#pragma once
// The sy-controller a fleet benchmark runs against: started on a free loopback port with its
// state in a directory of the benchmark's, killed (SIGKILL) and started again on the same state.

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/endpoint.hpp"
#include "common/result.hpp"

namespace sy::bench {

class ControllerProcess {
 public:
  ControllerProcess(std::string binary, std::string state_dir, std::string config_file);
  ~ControllerProcess();
  Result<Endpoint, std::string> start();  // waits (bounded) for it to listen
  void kill_hard();
  int stop();  // SIGTERM, then waits; its exit status
  pid_t pid() const { return pid_; }
  // Resident memory now and at its peak, in MiB (/proc/PID/status).
  std::int64_t rss_mib() const;
  std::int64_t peak_rss_mib() const;
  std::int64_t database_mib() const;  // switchyard.db with its WAL

 private:
  std::string binary_, state_dir_, config_file_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace sy::bench
