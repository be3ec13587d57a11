#include "agent/launch_plan.hpp"

#include <charconv>

#include "common/comma_list.hpp"

namespace sy::agent {

std::set<int> parse_cpu_list(const std::string& list) {
  std::set<int> out;
  for (const std::string& part : split_commas(list)) {
    int lo = 0, hi = 0;
    const char* b = part.data();
    const char* e = part.data() + part.size();
    auto [p, ec] = std::from_chars(b, e, lo);
    if (ec != std::errc()) continue;
    hi = lo;
    if (p != e) {
      if (*p != '-') continue;
      auto [q, ec2] = std::from_chars(p + 1, e, hi);
      if (ec2 != std::errc() || q != e) continue;
    }
    for (int c = lo; c <= hi && c - lo < 65536; ++c)
      out.insert(c);
  }
  return out;
}

std::string cpu_list_text(const std::set<int>& cpus) {
  std::string out;
  for (auto it = cpus.begin(); it != cpus.end();) {
    const int lo = *it;
    int hi = lo;
    for (++it; it != cpus.end() && *it == hi + 1; ++it)
      hi = *it;
    out += (out.empty() ? "" : ",") + std::to_string(lo) +
           (hi > lo ? "-" + std::to_string(hi) : std::string());
  }
  return out;
}

std::set<int> numa_cpus_of(const topo::NodeTopology& topology, const std::vector<int>& gpus) {
  std::set<int> near;
  for (const int g : gpus) {
    if (g < 0 || g >= topology.gpu_count() || !topology.gpus[g].numa) continue;
    for (const auto& n : topology.numa_nodes) {
      if (n.id == *topology.gpus[g].numa) near.merge(parse_cpu_list(n.cpus));
    }
  }
  return near;
}

std::string cpus_near(const NodeContext& ctx, const std::vector<int>& gpus) {
  if (!ctx.topology) return cpu_list_text(ctx.job_cpus);
  const std::set<int> near = numa_cpus_of(*ctx.topology, gpus);
  std::set<int> usable;
  const std::set<int>& allowed = ctx.job_cpus.empty() ? ctx.usable_cpus : ctx.job_cpus;
  for (const int c : near) {
    if (allowed.contains(c)) usable.insert(c);
  }
  // A job given CPUs keeps to them even where none is near its GPUs (or NUMA is unknown).
  if (usable.empty() && !ctx.job_cpus.empty()) return cpu_list_text(ctx.job_cpus);
  return cpu_list_text(usable);
}

std::map<std::string, std::string> nccl_hints(const topo::NodeTopology& topology, int gpu) {
  const auto nic = topology.nearest_nic(gpu);
  if (!nic) return {};
  const std::string& name = topology.nics[*nic].name;
  // RDMA devices are named by their driver (mlx5_0, bnxt_re0, hfi1_0, irdma0, qedr0);
  // everything else is a network interface.
  for (const char* rdma : {"mlx", "bnxt_re", "hfi", "irdma", "qedr", "ib"}) {
    if (name.rfind(rdma, 0) == 0) return {{"NCCL_IB_HCA", name}};
  }
  return {{"NCCL_SOCKET_IFNAME", name}};
}

namespace {

std::string join_ints(const std::vector<int>& v, const char* sep) {
  std::string out;
  for (const int i : v)
    out += (out.empty() ? "" : sep) + std::to_string(i);
  return out;
}

std::vector<std::string> user_command(const protocol::LaunchOrder& order, const NodeContext& ctx) {
  return order.script.empty() ? order.command : std::vector<std::string>{ctx.script};
}

}  // namespace

std::map<std::string, std::string> node_environment(const protocol::LaunchOrder& order,
                                                    const NodeContext& ctx) {
  std::map<std::string, std::string> env;
  env["CUDA_VISIBLE_DEVICES"] = join_ints(order.gpus, ",");
  env["SY_JOB_WORKDIR"] = ctx.workdir;
  if (!ctx.script.empty()) env["SY_JOB_SCRIPT"] = ctx.script;
  if (order.slurm) {
    // mpirun inside a batch script finds the job's nodes in SLURM_* (as under Slurm) and starts
    // its daemons through the agents, as an mpi job's does.
    env["OMPI_MCA_plm"] = "rsh";
    env["OMPI_MCA_plm_rsh_agent"] = "sy-agent rsh";
    env["OMPI_MCA_plm_rsh_no_tree_spawn"] = "1";
    if (ctx.as_root) env["OMPI_ALLOW_RUN_AS_ROOT"] = env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
    if (!order.env.contains("OMPI_MCA_orte_tmpdir_base")) {
      env["OMPI_MCA_orte_tmpdir_base"] = ctx.job_dir;
    }
  }
  if (order.launcher == "mpi") {
    // Read by `sy-agent rank` to give each local rank its GPU and CPUs.
    env["SY_NODE_GPUS"] = join_ints(order.gpus, ",");
    std::string per_gpu;
    for (std::size_t i = 0; i < order.gpus.size(); ++i)
      per_gpu += (i ? ";" : "") + cpus_near(ctx, {order.gpus[i]});
    env["SY_NODE_GPU_CPUS"] = per_gpu;
    // Open MPI's session directory in the job's own directory on each node: nothing left in
    // /tmp after the job, and no two nodes' daemons sharing one when they share a host name.
    if (!order.env.contains("OMPI_MCA_orte_tmpdir_base")) {
      env["OMPI_MCA_orte_tmpdir_base"] = ctx.job_dir;
    }
  }
  return env;
}

std::string mpi_hostfile(const protocol::LaunchOrder& order, const std::string& hostname) {
  std::string out;
  for (std::size_t i = 0; i < order.hosts.size(); ++i) {
    out += (i == 0 ? hostname : order.hosts[i].node) +
           " slots=" + std::to_string(order.hosts[i].slots) + "\n";
  }
  return out;
}

std::vector<ProcessPlan> plan_processes(const protocol::LaunchOrder& order,
                                        const NodeContext& ctx) {
  std::vector<ProcessPlan> out;
  if (order.launcher == "none") {
    if (!order.leader) return out;
    std::vector<std::string> argv = user_command(order, ctx);
    if (order.slurm && !order.stdout_path.empty()) {
      // The batch script's output goes where sbatch's --output/--error said, opened by the
      // job's own process (as its user).
      argv.insert(argv.begin(), {ctx.agent_path, "batch", "--stdout", order.stdout_path, "--stderr",
                                 order.stderr_path, "--"});
    }
    out.push_back({.label = "0",
                   .rank = 0,
                   .argv = std::move(argv),
                   .env = {},
                   .cpus = cpus_near(ctx, order.gpus),
                   .mpi_tags = false});
    return out;
  }
  if (order.launcher == "env") {
    const std::vector<int> gpus = order.gpus.empty() ? std::vector<int>{-1} : order.gpus;
    const int local_size = static_cast<int>(gpus.size());
    for (int local = 0; local < local_size; ++local) {
      const int rank = order.first_rank + local;
      ProcessPlan p{.label = std::to_string(rank),
                    .rank = rank,
                    .argv = user_command(order, ctx),
                    .env = {},
                    .cpus = gpus[local] >= 0 ? cpus_near(ctx, {gpus[local]}) : "",
                    .mpi_tags = false};
      p.env = {{"RANK", std::to_string(rank)},
               {"LOCAL_RANK", std::to_string(local)},
               {"WORLD_SIZE", std::to_string(order.world_size)},
               {"LOCAL_WORLD_SIZE", std::to_string(local_size)},
               {"GROUP_RANK", std::to_string(local_size ? order.first_rank / local_size : 0)},
               {"MASTER_ADDR", order.master_addr},
               {"MASTER_PORT", std::to_string(order.master_port)},
               {"CUDA_VISIBLE_DEVICES", gpus[local] >= 0 ? std::to_string(gpus[local]) : ""}};
      if (ctx.topology && gpus[local] >= 0) {
        for (auto& [k, v] : nccl_hints(*ctx.topology, gpus[local])) {
          if (!order.env.contains(k)) p.env[k] = v;  // the job's own setting wins
        }
      }
      out.push_back(std::move(p));
    }
    return out;
  }
  // mpi
  if (!order.leader) return out;
  std::vector<std::string> argv = {ctx.mpirun,
                                   "--hostfile",
                                   ctx.hostfile,
                                   "-np",
                                   std::to_string(order.world_size),
                                   "--map-by",
                                   "slot",
                                   "--bind-to",
                                   "none",
                                   "--tag-output",
                                   "--mca",
                                   "plm_rsh_agent",
                                   ctx.agent_path + " rsh",
                                   "--mca",
                                   "plm_rsh_no_tree_spawn",
                                   "1"};
  if (ctx.as_root) argv.push_back("--allow-run-as-root");
  argv.push_back(ctx.agent_path);
  argv.push_back("rank");
  argv.push_back("--");
  if (order.script.empty()) argv.insert(argv.end(), order.command.begin(), order.command.end());
  out.push_back({.label = "mpirun",
                 .rank = -1,
                 .argv = std::move(argv),
                 .env = {},
                 .cpus = "",
                 .mpi_tags = true});
  return out;
}

}  // namespace sy::agent
