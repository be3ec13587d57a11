#pragma once
// RshServer: the agent's Unix socket through which `sy-agent rsh` — Open MPI's remote launch
// agent inside an mpi job, in place of ssh — asks for a command on another node of the same
// job. A request must carry the job's secret (SY_JOB_TOKEN, known only to the job's processes);
// it goes to the controller as exec_request, which checks the target is a node of the job and
// passes it to that node's agent; the exec's reports come back the same way and are written to
// the asker line by line until it has ended.

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/job_supervisor.hpp"
#include "agent/staging/beneath.hpp"
#include "common/agent_protocol.hpp"
#include "common/result.hpp"

namespace sy::agent {

class RshServer {
 public:
  using Send = std::function<void(nlohmann::json)>;
  RshServer(std::filesystem::path socket, const JobSupervisor& jobs, Send send);
  ~RshServer();
  RshServer(const RshServer&) = delete;
  RshServer& operator=(const RshServer&) = delete;

  Result<void, std::string> start();  // binds the socket (any user may connect: the token decides)
  void on_report(const protocol::ExecReport& report);

 private:
  void serve();
  void take(staging::Fd client);

  std::filesystem::path socket_;
  const JobSupervisor& jobs_;
  Send send_;
  staging::Fd listener_, wake_;
  std::mutex mutex_;
  std::map<std::string, staging::Fd> waiting_;  // request -> the asker's connection
  std::uint64_t next_ = 0;
  std::jthread thread_;
};

// Runs `command` (a shell line) on `host`, a node of the calling job, through the agents, and
// returns its exit status; only from inside a job (SY_AGENT_SOCKET, SY_JOB_ID, SY_JOB_TOKEN).
// With `stream`, its output comes back to this process's stdout and stderr as it is written.
Result<int, std::string> exec_on_node(const std::string& host, const std::string& command,
                                      bool stream = false);
// `sy-agent rsh HOST COMMAND...`: what Open MPI runs instead of ssh (plm_rsh_agent).
int run_rsh_command(int argc, char** argv);
// `sy-agent rank -- COMMAND...`: what mpirun runs as each rank: gives the rank its GPU
// (CUDA_VISIBLE_DEVICES), binds it to the CPUs near it, sets RANK, LOCAL_RANK, WORLD_SIZE and
// LOCAL_WORLD_SIZE from Open MPI's variables, and execs the command (the job's script without).
int run_rank_command(int argc, char** argv);

}  // namespace sy::agent
