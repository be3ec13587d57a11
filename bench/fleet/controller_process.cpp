#include "bench/fleet/controller_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace sy::bench {
namespace fs = std::filesystem;

ControllerProcess::ControllerProcess(std::string binary, std::string state_dir,
                                     std::string config_file)
    : binary_(std::move(binary)),
      state_dir_(std::move(state_dir)),
      config_file_(std::move(config_file)) {}

ControllerProcess::~ControllerProcess() {
  if (pid_ > 0) kill_hard();
}

Result<Endpoint, std::string> ControllerProcess::start() {
  const std::string port_file = state_dir_ + "/port";
  std::error_code ec;
  fs::create_directories(state_dir_, ec);
  fs::remove(port_file, ec);
  // The same port after a restart: the fleet reconnects to where it was.
  const std::string listen = "127.0.0.1:" + std::to_string(port_);
  std::vector<std::string> args{binary_,       "--insecure", "--listen",    listen,
                                "--state-dir", state_dir_,   "--port-file", port_file};
  if (!config_file_.empty()) {
    args.push_back("--config");
    args.push_back(config_file_);
  }
  const std::string log = state_dir_ + "/controller.log";
  pid_ = ::fork();
  if (pid_ < 0) return fail(std::string("fork failed"));
  if (pid_ == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 600; ++i) {  // 60 s: a large database takes a while to open
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = port;
      return Endpoint{"127.0.0.1", static_cast<std::uint16_t>(port)};
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return fail("sy-controller exited at start; see " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return fail("sy-controller did not listen within 60 s; see " + log);
}

void ControllerProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ControllerProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill_hard();
  return 137;
}

namespace {
std::int64_t status_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1));
  }
  return 0;
}
}  // namespace

std::int64_t ControllerProcess::rss_mib() const {
  return pid_ > 0 ? status_kib(pid_, "VmRSS") / 1024 : 0;
}

std::int64_t ControllerProcess::peak_rss_mib() const {
  return pid_ > 0 ? status_kib(pid_, "VmHWM") / 1024 : 0;
}

std::int64_t ControllerProcess::database_mib() const {
  std::int64_t bytes = 0;
  for (const char* f : {"/switchyard.db", "/switchyard.db-wal"}) {
    std::error_code ec;
    const auto size = fs::file_size(state_dir_ + f, ec);
    if (!ec) bytes += static_cast<std::int64_t>(size);
  }
  return bytes >> 20;
}

}  // namespace sy::bench
