#pragma once
// The messages between sy-agent and sy-controller on their WebSocket (one JSON object per
// text message, "type" says which). Both sides build and read them only through this file.
//
//   agent -> controller  {"type":"register","node":N,"agent_version":V,"instance":I,
//                         "topology":{...},
//                         "datasets":[{"name":D,"version":V,"bytes":B}, ...]}  (its Tier-0 cache)
//                        {"type":"heartbeat","seq":K}
//                        {"type":"stage_report","request":R,"state":"staging|done|failed",...}
//                        {"type":"job_report","job":J,"state":"running|ended|refused",...}
//                        {"type":"job_output","job":J,"offset":O,"end":E,"text":T}  (its log)
//                        {"type":"exec_request","request":R,"job":J,"node":TARGET,"command":C}
//                        {"type":"exec_report","request":R,"job":J,"state":...}  (of an exec)
//   controller -> agent  {"type":"registered","node":N,"heartbeat_interval_ms":I}
//                        {"type":"stage","request":R,"source":S,"manifest":{...}}
//                        {"type":"launch","job":J,"command":[...],...}  (start the job here)
//                        {"type":"stop","job":J,"reason":W}             (end it: TERM, then KILL)
//                        {"type":"job_ack","job":J}   (its end is recorded: the agent forgets it)
//                        {"type":"output_ack","job":J,"end":E}  (its log is kept up to E)
//                        {"type":"exec","request":R,"job":J,"node":ORIGIN,"command":C}
//                        {"type":"exec_report",...}  (forwarded to the node that asked)
//                        {"type":"error","message":M}   (then the controller closes)

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/dataset/manifest.hpp"
#include "common/job_spec.hpp"
#include "common/result.hpp"
#include "common/topology/node_topology.hpp"
#include "common/utf8.hpp"

namespace sy::protocol {

inline constexpr const char* kAgentPath = "/v1/agents/connect";

// A dataset version held whole and verified in a node's Tier-0 cache.
struct CachedDataset {
  std::string name;
  std::string version;
  std::int64_t bytes = 0;
};

// How a job the agent was told to launch stands: "running", "staging_out" (its processes
// ended; its outputs are being copied: message says how it goes), "ended" (with exit_code, or
// the signal that killed it, and outputs_error when its outputs could not be copied), or
// "refused" (never started: message says why).
// `rank`: the job's first rank on this node that failed (-1: none, or not known).
struct JobReport {
  std::int64_t job = 0;
  std::string state;
  int exit_code = 0;
  int signal = 0;
  std::string message;
  std::string outputs_error;
  int rank = -1;
};
nlohmann::json job_report_message(const JobReport& report);
// The report of a job that could not start, and why.
JobReport job_refused(std::int64_t job, std::string why);
Result<JobReport, std::string> read_job_report(const nlohmann::json& message);

// A registration also lists the jobs the agent runs and those that ended without the
// controller acknowledging it, so nothing that happened while disconnected is lost.
// `instance` names the agent process (new_agent_instance(), once per process): an agent that
// registers again as the same instance still knows every order it was given, so a job it does
// not list never reached it; a new instance (the agent restarted) has lost what it ran.
nlohmann::json register_message(const std::string& node, const std::string& instance,
                                const topo::NodeTopology& topology,
                                const std::vector<CachedDataset>& datasets = {},
                                const std::vector<JobReport>& jobs = {});
std::string new_agent_instance();  // 32 random hex digits
nlohmann::json heartbeat_message(std::int64_t seq);
nlohmann::json registered_message(const std::string& node, std::int64_t heartbeat_interval_ms);
nlohmann::json error_message(const std::string& message);

// An agent stopping with --drain-on-stop: "drain" first (nothing new is placed on the node, its
// jobs run on), "stopped" once they have all ended and been acknowledged (the node is DOWN
// without the drain, so it comes back UP when the agent registers again).
nlohmann::json drain_message();
nlohmann::json stopped_message();
inline constexpr std::string_view kDrainOnStopReason =
    "its agent is stopping: running jobs finish, nothing new starts (drain-on-stop)";

struct Register {
  std::string node;
  std::string agent_version;
  std::string instance;  // empty from agents older than instances: never the same agent
  topo::NodeTopology topology;
  std::vector<CachedDataset> datasets;
  std::vector<JobReport> jobs;
};

// The message's type, or an error if it is not a JSON object with a string "type".
Result<std::string, std::string> message_type(const nlohmann::json& message);
// Checks a register message completely (node name syntax, topology against its schema).
Result<Register, std::string> read_register(const nlohmann::json& message);

// An order to stage one dataset version into the node's Tier-0 cache. Without a manifest it is
// a check of a copy the node reported holding: the agent checks it against the manifest in the
// copy's own record (and repairs it from the source), so a dataset of a million files is not
// sent again for every job; a node without that copy answers failed, kind "missing".
struct StageOrder {
  std::string request;  // the controller's id for it, echoed in reports
  std::string source;   // where the agent reads from (plugins/staging)
  std::string dataset, version;
  std::optional<dataset::Manifest> manifest;
  // A copy to make whose manifest is not in the order (a million-file manifest is ~100 MB of
  // JSON): the agent fetches it in slices (manifest_request) before staging. Its file count.
  // Neither this nor `manifest`: a check of a copy the node holds.
  std::optional<std::int64_t> manifest_files;
};
nlohmann::json stage_order_message(const StageOrder& order);
// Checks the manifest completely (every path) before the agent touches its disk.
Result<StageOrder, std::string> read_stage_order(const nlohmann::json& message);

// A slice of a stage order's manifest, asked by the agent from file `from` on; the controller
// answers with the files from there (as many as fit in about 1 MiB), or an error.
struct ManifestRequest {
  std::string request;  // the stage order's
  std::string dataset, version;
  std::int64_t from = 0;
};
nlohmann::json manifest_request_message(const ManifestRequest& r);
Result<ManifestRequest, std::string> read_manifest_request(const nlohmann::json& message);
struct ManifestChunk {
  std::string request;
  std::int64_t from = 0, total = 0;  // where this slice starts; the manifest's file count
  nlohmann::json files = nlohmann::json::array();  // entries as dataset::to_json writes them
  std::string error;                               // set: no slice (the version is unknown, ...)
};
nlohmann::json manifest_chunk_message(const ManifestChunk& c);
// Checks the envelope; the entries are checked with the whole manifest (manifest_from_json).
Result<ManifestChunk, std::string> read_manifest_chunk(const nlohmann::json& message);

// How a stage order is going: progress while "staging", then once "done" (with the cache's
// contents after it) or "failed" (with the stager's error kind and message).
struct StageReport {
  std::string request;
  std::string state;  // staging, done, failed
  std::int64_t bytes_done = 0, bytes_total = 0, files_done = 0, files_total = 0;
  double seconds = 0;
  std::int64_t bytes_copied = 0;
  std::string error_kind, message;
  std::vector<CachedDataset> cache;  // when done
};
nlohmann::json stage_report_message(const StageReport& report);
Result<StageReport, std::string> read_stage_report(const nlohmann::json& message);

// A node of an MPI job and how many ranks it runs (the hostfile's lines).
struct MpiHost {
  std::string node;
  int slots = 1;
  bool operator==(const MpiHost&) const = default;
};

// An order to start a job's processes on this node, seeing its GPUs and the verified Tier-0
// copies of its datasets. Every node of the job gets one: with the `none` launcher the first
// node (`leader`) runs the command once; with `env` every node runs one process per GPU, ranks
// first_rank.. of world_size, rendezvous at master_addr:master_port; with `mpi` the leader runs
// mpirun over `hosts` and the others start what mpirun asks of them (exec orders).
struct LaunchOrder {
  std::int64_t job = 0;
  std::vector<std::string> command;  // empty when script is set
  std::string script;                // a batch script's text
  std::map<std::string, std::string> env;
  std::string workdir;                  // empty: the job's spool directory
  std::vector<int> gpus;                // this node's GPUs that the job holds
  int cpus = 0;                         // CPUs it holds on this node; 0: not limited
  std::int64_t memory_mib = 0;          // memory it may use on this node; 0: not limited
  std::vector<CachedDataset> datasets;  // name and version (bytes unused)
  std::vector<Output> outputs;          // copied to shared storage after it ends
  std::string launcher = "none";        // none, env, mpi
  bool leader = true;                   // the job's first node
  int first_rank = 0;
  int world_size = 1;
  std::string master_addr;
  int master_port = 0;
  std::vector<MpiHost> hosts;  // mpi: every node of the job, the leader first
  std::string user;            // who submitted it: run as this user when the agent is root
  // A Slurm batch script: its processes get `srun` and `scontrol` on their PATH, and the leader's
  // script writes to these files (relative to workdir) instead of the job's log.
  bool slurm = false;
  std::string stdout_path, stderr_path;
};
nlohmann::json launch_message(const LaunchOrder& order);
Result<LaunchOrder, std::string> read_launch_order(const nlohmann::json& message);

nlohmann::json stop_message(std::int64_t job, const std::string& reason);
nlohmann::json job_ack_message(std::int64_t job);
// The job id of a stop or job_ack message.
Result<std::int64_t, std::string> read_job_id(const nlohmann::json& message);

// A slice of a job's log on one node: bytes [offset, end) of the node's log, as text (bytes that
// are not UTF-8 replaced). The controller keeps it and answers with output_ack up to `end`.
struct JobOutput {
  std::int64_t job = 0;
  std::int64_t offset = 0, end = 0;
  std::string text;
};
nlohmann::json job_output_message(const JobOutput& output);
Result<JobOutput, std::string> read_job_output(const nlohmann::json& message);
nlohmann::json output_ack_message(std::int64_t job, std::int64_t end);
// The job and end of an output_ack.
Result<std::pair<std::int64_t, std::int64_t>, std::string> read_output_ack(
    const nlohmann::json& message);

// A command a process of a job asked to run on another node of the same job (Open MPI starting
// its daemons through `sy-agent rsh`): sent as exec_request by the asking node's agent with
// `node` the target, forwarded as exec to the target with `node` the asking node. The command
// is one shell line, as ssh would run it.
struct ExecOrder {
  std::string request;
  std::int64_t job = 0;
  std::string node;
  std::string command;
  // Send the command's output back to the asker (srun) instead of the node's job log.
  bool stream = false;
};
nlohmann::json exec_request_message(const ExecOrder& order);
nlohmann::json exec_message(const ExecOrder& order);
Result<ExecOrder, std::string> read_exec(const nlohmann::json& message);  // either type

// How an exec goes: "started", then "ended" (exit_code, or 128+signal), or "failed" (never
// started: message says why).
struct ExecReport {
  std::string request;
  std::int64_t job = 0;
  std::string state;
  int exit_code = 0;
  std::string message;
};
nlohmann::json exec_report_message(const ExecReport& report);
Result<ExecReport, std::string> read_exec_report(const nlohmann::json& message);

// Node names: what a host name may be.
bool valid_node_name(const std::string& name);

}  // namespace sy::protocol
