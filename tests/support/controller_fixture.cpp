#include "tests/support/controller_fixture.hpp"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sy::test {

std::string controller_binary() {
  return SY_CONTROLLER_BIN;
}
std::string cli_binary() {
  return SY_CLI_BIN;
}
std::string source_dir() {
  return SY_SOURCE_DIR;
}

std::string agent_binary() {
  return SY_AGENT_BIN;
}

std::string examples_dir() {
  return SY_EXAMPLES_DIR;
}

ControllerFixture::ControllerFixture(std::string config_yaml, std::vector<std::string> extra_args)
    : config_yaml_(std::move(config_yaml)), extra_args_(std::move(extra_args)) {}

void ControllerFixture::start() {
  const std::string port_file = dir_.file("port");
  std::filesystem::remove(port_file);
  // Port 0 on the first start; afterwards the same port, as a restarted daemon would have.
  const std::string listen = "127.0.0.1:" + std::to_string(endpoint_.port);
  std::vector<std::string> argv{controller_binary(), "--listen",    listen,   "--state-dir",
                                dir_.file("state"),  "--port-file", port_file};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  if (!config_yaml_.empty()) {
    argv.push_back("--config");
    argv.push_back(dir_.write("controller.yaml", config_yaml_));
  }
  process_ = std::make_unique<ChildProcess>(argv, dir_.file("controller.log"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      endpoint_ = Endpoint{"127.0.0.1", static_cast<std::uint16_t>(port)};
      return;
    }
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("sy-controller did not start:\n" + log());
}

void ControllerFixture::kill_hard() {
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(10));
}

int ControllerFixture::stop() {
  process_->signal(SIGTERM);
  return process_->wait(std::chrono::seconds(30));
}

std::string ControllerFixture::log() const {
  return read_file(dir_.file("controller.log"));
}

}  // namespace sy::test
