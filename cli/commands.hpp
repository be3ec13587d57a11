#pragma once
// The `sy` sub-commands, each with the options cli/command_line.cpp reads for it. Each returns
// the process exit code: 0 done, 1 failed, 2 usage error.

#include <optional>
#include <string>
#include <vector>

#include "cli/client_config.hpp"

namespace sy::cli {

struct SubmitOptions {
  bool parsable = false, json = false;
  // sbatch options, then the job file last, in the order given (sbatch's own order rules).
  std::vector<std::string> words;
};
struct QueueOptions {
  bool json = false, watch = false, all = false;
  double interval_s = 2;
  long iterations = 0;            // 0: until interrupted
  std::string states = "active";  // a comma list, "active" or "all"
  std::optional<std::string> user;
};
struct ShowOptions {
  std::string id;
  bool json = false;
};
struct LogsOptions {
  std::string id;
  bool follow = false;
  std::optional<int> rank;
};
// `sy node show NAME`, `sy dataset show NAME`, and the lists' --json.
struct NameOptions {
  std::string name;
  bool json = false;
};
struct DrainOptions {
  std::string node, reason;
};
struct DatasetAddOptions {
  std::string name, source;
  bool json = false;
};
struct StageOptions {
  std::string dataset, node;
  bool json = false;
};
struct SlurmStartOptions {
  std::string shared_dir, state_dir, topology;
  bool insecure = false;
  int wait_s = 120;
  std::vector<std::string> command;
};
struct TopOptions {
  double interval_s = 2;
  bool once = false;
};
struct DashboardOptions {
  std::string ttl;
  bool json = false;
};

int cmd_submit(const ClientConfig& config, const SubmitOptions& o);
int cmd_queue(const ClientConfig& config, const QueueOptions& o);
int cmd_show(const ClientConfig& config, const ShowOptions& o);
int cmd_cancel(const ClientConfig& config, const std::vector<std::string>& ids);
int cmd_logs(const ClientConfig& config, const LogsOptions& o);
int cmd_nodes(const ClientConfig& config, bool json);
int cmd_node_show(const ClientConfig& config, const NameOptions& o);
int cmd_drain(const ClientConfig& config, const DrainOptions& o);
int cmd_resume(const ClientConfig& config, const DrainOptions& o);
int cmd_dataset_add(const ClientConfig& config, const DatasetAddOptions& o);
int cmd_dataset_list(const ClientConfig& config, bool json);
int cmd_dataset_show(const ClientConfig& config, const NameOptions& o);
int cmd_stage(const ClientConfig& config, const StageOptions& o);
int cmd_slurm_start(const ClientConfig& config, const SlurmStartOptions& o);
int cmd_top(const ClientConfig& config, const TopOptions& o);
int cmd_dashboard(const ClientConfig& config, const DashboardOptions& o);

}  // namespace sy::cli
