#pragma once
// The processes a launch order starts on this node, worked out without touching the system:
// which command each runs, with which environment, labelled how in the log, bound to which CPUs.
//
//   none: the first node runs the command once, seeing all the job's GPUs of the node.
//   env:  one process per GPU on every node, with the variables torchrun sets (RANK,
//         LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT), its
//         one GPU in CUDA_VISIBLE_DEVICES and NCCL's interface hint for the GPU's nearest NIC.
//   mpi:  the first node runs mpirun over a hostfile of the job's nodes; Open MPI starts its
//         daemons on the other nodes through `sy-agent rsh` (never ssh), and every rank runs
//         under `sy-agent rank`, which gives it its GPU and CPUs as `env` ranks get them.
// A process is bound to the CPUs of its GPUs' NUMA nodes (those the agent may use).

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/agent_protocol.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::agent {

// "0-3,8,10-11" <-> {0,1,2,3,8,10,11}. Parsing skips what is not a number or range.
std::set<int> parse_cpu_list(const std::string& list);
std::string cpu_list_text(const std::set<int>& cpus);

struct NodeContext {
  const topo::NodeTopology* topology = nullptr;
  std::set<int> usable_cpus;  // the agent's own affinity: binding never goes outside it
  std::set<int> job_cpus;     // the CPUs the job was given; empty: not limited
  std::string agent_path;     // this sy-agent, for `rsh` and `rank`
  std::string mpirun = "mpirun";
  std::string hostname;  // what mpirun calls this host (its own entry in the hostfile)
  std::string hostfile;  // where the mpi leader's hostfile is written
  std::string script;    // the job's script on this node, when it has one
  std::string workdir;
  std::string job_dir;   // SPOOL/JOB
  bool as_root = false;  // the job runs as root (mpirun must be told it may)
};

struct ProcessPlan {
  std::string label;  // in the log: the rank, or "mpirun"
  int rank = -1;      // -1: not a rank of its own
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to the job's environment
  std::string cpus;                        // cpulist to bind to; empty: not bound
  bool mpi_tags = false;                   // its output carries mpirun's rank tags
};

// The CPUs near `gpus` (their NUMA nodes' cpulists) that the agent may use; empty when the
// topology does not say or none of them is usable.
std::string cpus_near(const NodeContext& ctx, const std::vector<int>& gpus);
// The CPUs of the NUMA nodes `gpus` sit on (empty where the topology does not say).
std::set<int> numa_cpus_of(const topo::NodeTopology& topology, const std::vector<int>& gpus);

// The variables every process of the job on this node sees, on top of the job's own.
std::map<std::string, std::string> node_environment(const protocol::LaunchOrder& order,
                                                    const NodeContext& ctx);
std::vector<ProcessPlan> plan_processes(const protocol::LaunchOrder& order, const NodeContext& ctx);
// The hostfile of an mpi job: one line per node, "NAME slots=N", the leader as `hostname`.
std::string mpi_hostfile(const protocol::LaunchOrder& order, const std::string& hostname);

// NCCL's hint for reaching the network from `gpu`: NCCL_IB_HCA for an RDMA device (mlx5_0,
// ...), NCCL_SOCKET_IFNAME for a network interface; nothing when the node lists no NIC.
std::map<std::string, std::string> nccl_hints(const topo::NodeTopology& topology, int gpu);

}  // namespace sy::agent
