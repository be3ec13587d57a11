#include "agent/rsh_server.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>

#include "agent/launch_plan.hpp"
#include "common/comma_list.hpp"
#include "common/log.hpp"

namespace sy::agent {
namespace {

constexpr std::size_t kMaxRequest = 128 * 1024;

void write_line(int fd, const nlohmann::json& j) {
  const std::string line = j.dump() + "\n";
  (void)!::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
}

Result<staging::Fd, std::string> unix_socket(const std::string& path, bool listen) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return fail("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  staging::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fail("socket: " + staging::errno_message());
  const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
  if (listen) {
    ::unlink(path.c_str());
    if (::bind(fd.get(), sa, sizeof addr) != 0 || ::chmod(path.c_str(), 0666) != 0 ||
        ::listen(fd.get(), 64) != 0) {
      return fail(path + ": " + staging::errno_message());
    }
  } else if (::connect(fd.get(), sa, sizeof addr) != 0) {
    return fail(path + ": " + staging::errno_message());
  }
  return fd;
}

// One line from `fd` within `ms`, or empty.
std::string read_line(int fd, int ms) {
  std::string line;
  char c = 0;
  while (line.size() < kMaxRequest) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return {};
    const ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) return line;
    if (c == '\n') return line;
    line += c;
  }
  return {};
}

}  // namespace

RshServer::RshServer(std::filesystem::path socket, const JobSupervisor& jobs, Send send)
    : socket_(std::move(socket)), jobs_(jobs), send_(std::move(send)) {}

RshServer::~RshServer() {
  if (wake_.valid()) {
    const std::uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  if (listener_.valid()) ::unlink(socket_.c_str());
}

Result<void, std::string> RshServer::start() {
  std::error_code ec;
  std::filesystem::create_directories(socket_.parent_path(), ec);
  auto fd = unix_socket(socket_.string(), true);
  if (!fd) return fail(fd.error());
  listener_ = std::move(fd).value();
  wake_ = staging::Fd(::eventfd(0, EFD_CLOEXEC));
  if (!wake_.valid()) return fail("eventfd: " + staging::errno_message());
  thread_ = std::jthread([this] { serve(); });
  return {};
}

void RshServer::serve() {
  while (true) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;
    if (fds[0].revents & POLLIN) {
      staging::Fd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (client.valid()) take(std::move(client));
    }
  }
}

void RshServer::take(staging::Fd client) {
  const auto request = nlohmann::json::parse(read_line(client.get(), 5000), nullptr, false);
  const auto refuse = [&](const std::string& why) {
    write_line(client.get(), {{"state", "failed"}, {"message", why}});
  };
  if (!request.is_object() || !request.contains("job") || !request["job"].is_number_integer() ||
      !request.contains("token") || !request["token"].is_string() || !request.contains("host") ||
      !request["host"].is_string() || !request.contains("command") ||
      !request["command"].is_string()) {
    return refuse("a request needs job, token, host and command");
  }
  const auto job = request["job"].get<std::int64_t>();
  if (!jobs_.job_token_matches(job, request["token"].get<std::string>())) {
    SY_LOG(warn, "jobs") << "rsh: refused a request for job " << job << " with a wrong token";
    return refuse("job " + std::to_string(job) + " does not run here, or the token is wrong");
  }
  const std::string host = request["host"].get<std::string>();
  if (!protocol::valid_node_name(host)) return refuse("'" + host + "' is not a node name");
  std::uint64_t salt = 0;
  (void)!::getrandom(&salt, sizeof salt, 0);
  protocol::ExecOrder order{.request = "",
                            .job = job,
                            .node = host,
                            .command = request["command"].get<std::string>(),
                            .stream = request.value("stream", false) == true};
  {
    const std::scoped_lock lock(mutex_);
    order.request = std::to_string(job) + "-" + std::to_string(++next_) + "-" +
                    std::to_string(salt % 1000000007);
    waiting_[order.request] = std::move(client);
  }
  SY_LOG(info, "jobs") << "job " << job << ": asking " << host << " to run a command ("
                       << order.request << ")";
  send_(protocol::exec_request_message(order));
}

void RshServer::on_report(const protocol::ExecReport& r) {
  const std::scoped_lock lock(mutex_);
  const auto it = waiting_.find(r.request);
  if (it == waiting_.end()) return;
  nlohmann::json line{{"state", r.state}, {"exit_code", r.exit_code}, {"message", r.message}};
  // An asker that went away (srun killed) has nothing more to hear.
  write_line(it->second.get(), line);
  if (r.state == "ended" || r.state == "failed") waiting_.erase(it);
}

Result<int, std::string> exec_on_node(const std::string& host, const std::string& command,
                                      bool stream) {
  const char* socket = std::getenv("SY_AGENT_SOCKET");
  const char* job = std::getenv("SY_JOB_ID");
  const char* token = std::getenv("SY_JOB_TOKEN");
  if (!socket || !job || !token) {
    return fail(
        std::string("runs only inside a Switchyard job (SY_AGENT_SOCKET, SY_JOB_ID and "
                    "SY_JOB_TOKEN are not set)"));
  }
  auto fd = unix_socket(socket, false);
  if (!fd) return fail("cannot reach the node's agent: " + fd.error());
  write_line(fd->get(), {{"job", std::atoll(job)},
                         {"token", token},
                         {"host", host},
                         {"command", command},
                         {"stream", stream}});
  // The agent's lines (streamed output can be many and long), read in blocks.
  std::string pending;
  const auto next_line = [&]() -> std::optional<std::string> {
    while (true) {
      if (const auto nl = pending.find('\n'); nl != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        return line;
      }
      char buf[65536];
      const ssize_t n = ::read(fd->get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      pending.append(buf, static_cast<std::size_t>(n));
    }
  };
  while (true) {
    const auto line = next_line();
    const auto r = line ? nlohmann::json::parse(*line, nullptr, false) : nlohmann::json();
    if (!r.is_object()) return fail(host + ": the agent closed the connection");
    const std::string state = r.value("state", "");
    if (state == "stdout" || state == "stderr") {
      const std::string text = r.value("message", std::string());
      const int out = state == "stdout" ? 1 : 2;
      for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(out, text.data() + done, text.size() - done);
        if (n <= 0 && errno != EINTR) break;
        if (n > 0) done += static_cast<std::size_t>(n);
      }
      continue;
    }
    if (state == "ended") return r.value("exit_code", 255);
    if (state == "failed") return fail(host + ": " + r.value("message", std::string("failed")));
  }
}

int run_rsh_command(int argc, char** argv) {
  // Open MPI runs AGENT [its rsh options] HOST COMMAND WORDS...: ssh's options mean nothing here.
  int i = 1;
  while (i < argc && argv[i][0] == '-')
    ++i;
  if (i + 1 >= argc) {
    std::cerr << "usage: sy-agent rsh HOST COMMAND...  (Open MPI's remote launch agent inside "
                 "a Switchyard job)\n";
    return 2;
  }
  std::string command;
  for (int k = i + 1; k < argc; ++k)
    command += (command.empty() ? "" : " ") + std::string(argv[k]);
  auto ended = exec_on_node(argv[i], command);
  if (!ended) {
    std::cerr << "sy-agent rsh: " << ended.error() << "\n";
    return 255;
  }
  return ended.value();
}

int run_rank_command(int argc, char** argv) {
  int first = 1;
  if (first < argc && std::string(argv[first]) == "--") ++first;
  const auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  const int local = std::atoi(env("OMPI_COMM_WORLD_LOCAL_RANK").c_str());
  // This rank's GPU and the CPUs near it (the agent's per-node lists).
  const auto gpus = split_commas(env("SY_NODE_GPUS"));
  std::vector<std::string> cpus;
  {
    const std::string lists = env("SY_NODE_GPU_CPUS");
    std::size_t start = 0;
    for (std::size_t semi = lists.find(';');; semi = lists.find(';', start)) {
      cpus.push_back(lists.substr(start, semi == std::string::npos ? semi : semi - start));
      if (semi == std::string::npos) break;
      start = semi + 1;
    }
  }
  if (!gpus.empty()) {
    const auto mine = static_cast<std::size_t>(local) % gpus.size();
    ::setenv("CUDA_VISIBLE_DEVICES", gpus[mine].c_str(), 1);
    if (mine < cpus.size() && !cpus[mine].empty()) {
      cpu_set_t set;
      CPU_ZERO(&set);
      for (const int c : parse_cpu_list(cpus[mine])) {
        if (c < CPU_SETSIZE) CPU_SET(c, &set);
      }
      if (::sched_setaffinity(0, sizeof set, &set) != 0) {
        std::cerr << "sy-agent rank: cannot bind to CPUs " << cpus[mine] << ": "
                  << std::strerror(errno) << "\n";
      }
    }
  }
  for (const auto& [ours, theirs] : {std::pair{"RANK", "OMPI_COMM_WORLD_RANK"},
                                     std::pair{"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"},
                                     std::pair{"WORLD_SIZE", "OMPI_COMM_WORLD_SIZE"},
                                     std::pair{"LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE"}}) {
    if (const char* v = std::getenv(theirs)) ::setenv(ours, v, 1);
  }
  // The job's working directory on this node (mpirun's own may not exist here).
  const std::string workdir = env("SY_JOB_WORKDIR");
  if (!workdir.empty() && ::chdir(workdir.c_str()) != 0) {
    std::cerr << "sy-agent rank: cannot change to " << workdir << ": " << std::strerror(errno)
              << "\n";
    return 127;
  }
  std::vector<char*> args;
  const std::string script = env("SY_JOB_SCRIPT");
  if (first < argc) {
    for (int k = first; k < argc; ++k)
      args.push_back(argv[k]);
  } else if (!script.empty()) {
    args.push_back(const_cast<char*>(script.c_str()));
  } else {
    std::cerr << "usage: sy-agent rank -- COMMAND...  (each rank of a Switchyard mpi job)\n";
    return 2;
  }
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  std::cerr << "sy-agent rank: cannot run '" << args[0] << "': " << std::strerror(errno) << "\n";
  return 127;
}

}  // namespace sy::agent
