#pragma once
// Child processes for integration tests: run a program to completion and capture its output,
// or keep one running (a daemon under test) and end it by PID. Only processes these helpers
// started are ever signalled.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace sy::test {

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with `env` added to the environment; kills it after `timeout`.
RunResult run_program(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env = {},
                      std::chrono::seconds timeout = std::chrono::seconds(60));

class ChildProcess {
 public:
  // Starts argv with stdout and stderr appended to `log_path`.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();  // SIGKILLs the child if it is still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int signo);
  // Waits for exit (up to `timeout`); returns the exit code as RunResult does, or -1.
  int wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
};

}  // namespace sy::test
