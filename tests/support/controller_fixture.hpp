#pragma once
// A real sy-controller binary for integration tests: started on an ephemeral loopback port
// with its state in a temporary directory, stoppable, killable and restartable on that state.

#include <memory>
#include <string>
#include <vector>

#include "common/endpoint.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace sy::test {

class ControllerFixture {
 public:
  // `config_yaml`, when given, is written to a file passed as --config (listen and state_dir
  // always come from flags). `extra_args` follow: plain TCP unless a test asks for TLS.
  explicit ControllerFixture(std::string config_yaml = "",
                             std::vector<std::string> extra_args = {"--insecure"});
  // Starts the controller and waits until it listens. Throws with its log if it does not.
  void start();
  void kill_hard();  // SIGKILL, as a crash would
  int stop();        // SIGTERM; returns the exit code
  const Endpoint& endpoint() const { return endpoint_; }
  std::string address() const { return endpoint_.to_string(); }
  const TempDir& dir() const { return dir_; }
  std::string log() const;
  // The controller's local socket (its uid-proving API), as sy's --controller takes it.
  std::string local_address() const { return "unix:" + dir_.file("state") + "/sy.sock"; }

 private:
  TempDir dir_;
  std::string config_yaml_;
  std::vector<std::string> extra_args_;
  Endpoint endpoint_;
  std::unique_ptr<ChildProcess> process_;
};

// Paths of the binaries under test, set by CMake.
std::string controller_binary();
std::string agent_binary();
std::string cli_binary();
std::string source_dir();
std::string examples_dir();  // where the all-reduce examples are built (when Open MPI is found)

}  // namespace sy::test
