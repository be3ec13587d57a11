#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/progress_text.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/api_client.hpp"
#include "cli/table.hpp"
#include "common/comma_list.hpp"
#include "common/file_text.hpp"
#include "common/job_spec.hpp"
#include "common/slurm/sbatch_script.hpp"
#include "common/units.hpp"

extern char** environ;

namespace sy::cli {
namespace {

// "2026-11-22T15:30:00.123Z" -> "2026-11-22 15:30:00" for tables.
std::string short_time(std::int64_t ms) {
  std::string t = format_utc_ms(ms);
  return t.substr(0, 10) + " " + t.substr(11, 8);
}

// Like squeue: where a placed job runs, else why it waits.
std::string nodelist_or_reason(const JobRecord& j) {
  if (j.placement.is_object() && j.placement.contains("nodes")) {
    std::string out;
    for (const auto& n : j.placement["nodes"]) {
      out += (out.empty() ? "" : ",") + n.value("node", std::string("?"));
    }
    return out;
  }
  return j.reason.empty() ? "-" : "(" + j.reason + ")";
}

// "node01 GPUs 0,1,2,3; node02 GPUs 4,5" and the ring and scores behind the choice.
void print_placement(std::ostream& out, const nlohmann::json& p) {
  out << "  Placement=";
  bool first = true;
  for (const auto& n : p["nodes"]) {
    out << (first ? "" : "; ") << n.value("node", std::string("?")) << " GPUs ";
    for (std::size_t i = 0; i < n["gpus"].size(); ++i)
      out << (i ? "," : "") << n["gpus"][i].get<int>();
    first = false;
  }
  out << "\n  Ring=";
  if (p["ring_gbps"].is_number()) {
    out << p["ring_gbps"].get<double>() << " GB/s at its slowest link ("
        << (p["ring_link"].is_string() ? p["ring_link"].get<std::string>() : "-")
        << ") inside a node";
  } else {
    out << "none inside a node (one GPU per node)";
  }
  if (p.contains("leaves") && !p["leaves"].empty()) {
    out << "  LeafSwitches=";
    for (std::size_t i = 0; i < p["leaves"].size(); ++i)
      out << (i ? "," : "") << p["leaves"][i].get<std::string>();
  }
  out << (p.value("backfilled", false) ? "  Backfilled=yes" : "")
      << "  Profile=" << p.value("profile", std::string("?")) << "\n";
  if (!p["scores"].empty()) {
    out << "  Scores:";
    for (const auto& [name, value] : p["scores"].items())
      out << " " << name << "=" << value.get<int>();
    out << "\n";
  }
}

std::string optional_time(const std::optional<std::int64_t>& ms) {
  return ms ? format_utc_ms(*ms) : "-";
}

}  // namespace

namespace {

// The job a Slurm batch script asks for, with sbatch's options from the command line.
Result<JobSpec, std::string> job_from_batch_script(const std::string& file, const std::string& text,
                                                   const std::vector<std::string>& options,
                                                   ApiClient& api) {
  slurm::SbatchContext ctx;
  ctx.file = file;
  std::error_code ec;
  ctx.submit_dir = std::filesystem::current_path(ec).string();
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) ctx.submit_host = host;
  ctx.command_line = options;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    if (const auto eq = kv.find('='); eq != std::string::npos)
      ctx.environment[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // --exclusive gives a job whole nodes: as many GPUs as the largest node has.
  if (auto nodes = api.list_nodes(); nodes && nodes->is_array()) {
    for (const auto& n : nodes.value())
      ctx.whole_node_gpus = std::max(ctx.whole_node_gpus, n.value("gpus", 0));
  }
  auto translated = slurm::job_from_sbatch(text, ctx);
  if (!translated) return fail(translated.error().to_string());
  for (const auto& w : translated->warnings)
    std::cerr << "sy: warning: " << w << "\n";
  if (translated->singleton) {
    // singleton: after every earlier job of this user with this name, whatever its outcome.
    ListQuery mine;
    mine.user = current_user();
    auto active = api.list(mine);
    if (!active) return fail("--dependency=singleton: cannot list your jobs: " + active.error());
    nlohmann::json& deps = translated->job["dependencies"];
    if (!deps.is_object()) deps = nlohmann::json::object();
    for (const JobRecord& j : active.value()) {
      if (j.spec.name == translated->job.value("name", "")) deps["after_any"].push_back(j.id);
    }
    if (deps.empty()) translated->job.erase("dependencies");
  }
  auto spec = job_spec_from_document(Document::from_value(translated->job, file));
  if (!spec) return fail(spec.error().to_string());
  return std::move(spec).value();
}

// SY_ACCOUNT and SY_TIME_LIMIT: for a job that names no account or time limit, as sbatch's
// SBATCH_ACCOUNT and SBATCH_TIMELIMIT are (those act on batch scripts, in the translation).
std::optional<std::string> apply_environment_defaults(JobSpec& spec) {
  const char* account = std::getenv("SY_ACCOUNT");
  if (account != nullptr && *account != '\0' && !spec.account) spec.account = account;
  const char* limit = std::getenv("SY_TIME_LIMIT");
  if (limit != nullptr && *limit != '\0' && !spec.time_limit_s) {
    auto seconds = parse_duration_seconds(limit);
    if (!seconds) return "SY_TIME_LIMIT='" + std::string(limit) + "': " + seconds.error();
    spec.time_limit_s = seconds.value();
  }
  return std::nullopt;
}

}  // namespace

int cmd_submit(const ClientConfig& config, const SubmitOptions& o) {
  std::vector<std::string> rest = o.words;
  if (rest.empty() || rest.back().empty() || rest.back()[0] == '-') {
    return usage("submit",
                 "which job file? (sy submit FILE.yaml, or sy submit [SBATCH OPTIONS] "
                 "SCRIPT.sbatch)");
  }
  const std::string file = rest.back();
  rest.pop_back();
  auto text = read_file_text(file);
  if (!text) return failed(text.error());
  ApiClient api(config, current_user());
  Result<JobSpec, std::string> spec = fail(std::string());
  if (slurm::looks_like_batch_script(text.value())) {
    spec = job_from_batch_script(file, text.value(), rest, api);
  } else {
    if (!rest.empty()) {
      return usage("submit", "'" + rest.front() +
                                 "': a YAML job file takes no options (sbatch options are for "
                                 "batch scripts); give one job file");
    }
    auto doc = load_yaml_file(file);
    if (!doc) return failed(doc.error().to_string());
    auto from_yaml = job_spec_from_document(doc.value());
    if (!from_yaml) return failed(from_yaml.error().to_string());
    spec = std::move(from_yaml).value();
  }
  if (!spec) return failed(spec.error());
  if (const auto wrong = apply_environment_defaults(spec.value())) return usage("submit", *wrong);
  auto reply = api.submit(spec.value(), new_idempotency_key());
  if (!reply) return failed(reply.error());
  if (o.json) {
    std::cout << nlohmann::json{{"id", reply->id}, {"name", spec->name}}.dump() << "\n";
  } else if (o.parsable) {
    std::cout << reply->id << "\n";
  } else if (!reply->tasks.empty()) {
    std::cout << "Submitted array job " << reply->id << " (" << reply->tasks.size() << " tasks"
              << (spec->array->limit
                      ? ", at most " + std::to_string(spec->array->limit) + " at once"
                      : "")
              << ")\n";
  } else {
    std::cout << "Submitted job " << reply->id << "\n";
  }
  return 0;
}

int cmd_queue(const ClientConfig& config, const QueueOptions& o) {
  ListQuery query;
  query.states = o.states;
  query.user = o.user;
  ApiClient api(config, current_user());
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  for (long shown = 1;; ++shown) {
    auto jobs = api.list(query);
    if (!jobs) return failed(jobs.error());
    if (o.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& j : jobs.value())
        out.push_back(job_record_to_json(j));
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    Table table({"JOBID", "NAME", "USER", "STATE", "GPUS", "NODES", "TIME_LIMIT", "SUBMITTED",
                 "NODELIST(REASON)"});
    for (const auto& j : jobs.value()) {
      table.add_row({j.display_id(), j.spec.name, j.user, std::string(state_name(j.state)),
                     std::to_string(j.spec.total_gpus()), std::to_string(j.spec.resources.nodes),
                     j.spec.time_limit_s ? format_duration(*j.spec.time_limit_s) : "default",
                     short_time(j.submit_ms), nodelist_or_reason(j)});
    }
    if (o.watch) {
      // As watch(1) does: on a terminal the newest table replaces the last.
      if (tty) std::cout << "\033[H\033[2J";
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch());
      std::cout << "Every " << o.interval_s << "s: sy queue    " << short_time(now.count())
                << "\n\n";
    }
    table.print(std::cout);
    std::cout << std::flush;
    if (!o.watch || (o.iterations > 0 && shown >= o.iterations)) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(o.interval_s * 1000)));
  }
}

int cmd_show(const ClientConfig& config, const ShowOptions& o) {
  ApiClient api(config, current_user());
  auto job = api.get(o.id);
  if (!job) return failed(job.error());
  const JobRecord& j = job.value();
  if (o.json) {
    std::cout << job_record_to_json(j).dump(2) << "\n";
    return 0;
  }
  const JobSpec& s = j.spec;
  std::ostringstream out;
  out << "JobId=" << j.display_id() << " Name=" << s.name << " User=" << j.user
      << " Account=" << s.account.value_or(j.user) << "\n"
      << "  State=" << state_name(j.state) << " Reason=" << (j.reason.empty() ? "-" : j.reason)
      << " ExitCode=" << (j.exit_code ? std::to_string(*j.exit_code) : "-") << "\n"
      << "  Priority=" << s.priority << " Launcher=" << launcher_name(s.launcher)
      << " Requeue=" << (s.requeue ? "yes" : "no") << "\n"
      << "  Nodes=" << s.resources.nodes << " GpusPerNode=" << s.resources.gpus_per_node
      << " CpusPerGpu=" << s.resources.cpus_per_gpu << " MemPerGpu="
      << (s.resources.memory_per_gpu_mib ? format_size_mib(*s.resources.memory_per_gpu_mib) : "-")
      << " TimeLimit=" << (s.time_limit_s ? format_duration(*s.time_limit_s) : "default") << "\n"
      << "  SubmitTime=" << format_utc_ms(j.submit_ms) << " StartTime=" << optional_time(j.start_ms)
      << " EndTime=" << optional_time(j.end_ms) << "\n";
  if (s.script) {
    out << "  Script=(" << s.script->size() << " bytes)\n";
  } else {
    out << "  Command=";
    for (std::size_t i = 0; i < s.command.size(); ++i)
      out << (i ? " " : "") << s.command[i];
    out << "\n";
  }
  if (!s.resources.features.empty() || s.resources.gpu_model || s.resources.gpu_memory_mib) {
    out << "  Features=" << (s.resources.features.empty() ? "-" : join_commas(s.resources.features))
        << " GpuModel=" << s.resources.gpu_model.value_or("-") << " GpuMemory="
        << (s.resources.gpu_memory_mib ? format_size_mib(*s.resources.gpu_memory_mib) : "-")
        << "\n";
  }
  if (j.array_id) {
    out << "  ArrayJobId=" << *j.array_id << " ArrayTaskId=" << j.array_index.value_or(0)
        << " Array=" << (s.array ? s.array->text : "-") << "\n";
  }
  if (!s.after_ok.empty() || !s.after_any.empty()) {
    out << "  Dependency=" << (s.after_ok.empty() ? "" : "after_ok:" + join_commas(s.after_ok))
        << (!s.after_ok.empty() && !s.after_any.empty() ? "," : "")
        << (s.after_any.empty() ? "" : "after_any:" + join_commas(s.after_any)) << "\n";
  }
  if (s.every_s || j.begin_ms > 0) {
    out << "  Every=" << (s.every_s ? format_duration(*s.every_s) : "-")
        << " BeginTime=" << (j.begin_ms > 0 ? format_utc_ms(j.begin_ms) : "-") << "\n";
  }
  if (j.placement.is_object()) print_placement(out, j.placement);
  if (!s.datasets.empty()) {
    out << "  Datasets=";
    for (std::size_t i = 0; i < s.datasets.size(); ++i)
      out << (i ? "," : "") << s.datasets[i];
    out << "\n";
  }
  if (j.staging.is_array() && !j.staging.empty()) {
    // The newest order per node and dataset: an earlier one may have been cut short.
    std::map<std::pair<std::string, std::string>, nlohmann::json> newest;
    for (const auto& order : j.staging)
      newest[{order.value("node", ""), order.value("dataset", "")}] = order;
    out << "  Staging:\n";
    for (const auto& [key, order] : newest) {
      const std::string state = order.value("state", "");
      out << "    " << key.first << "  " << key.second << "  " << state << "  ";
      if (state == "failed") {
        out << order["error"].value("kind", "") << ": " << order["error"].value("message", "");
      } else if (state == "done") {
        out << bytes_text(order.value("bytes_total", std::int64_t{0})) << " verified";
      } else {
        out << progress_line(order);
      }
      out << "\n";
    }
  }
  if (s.workdir) out << "  WorkDir=" << *s.workdir << "\n";
  if (s.slurm) {
    // A batch script carries its submitter's whole environment: counted, not listed.
    out << "  BatchScript: StdOut=" << s.slurm->output
        << " StdErr=" << s.slurm->error.value_or(s.slurm->output)
        << " TasksPerNode=" << s.slurm->ntasks_per_node << " Env=" << s.env.size()
        << " variables exported (sy show --json lists them)\n";
  } else {
    for (const auto& [k, v] : s.env)
      out << "  Env " << k << "=" << v << "\n";
  }
  out << "  Events:\n";
  for (const auto& e : j.events) {
    out << "    " << format_utc_ms(e.at_ms) << "  " << e.event << "  "
        << (e.from ? std::string(state_name(*e.from)) + " -> " : "") << state_name(e.to)
        << (e.reason.empty() ? "" : "  (" + e.reason + ")") << "\n";
  }
  std::cout << out.str();
  return 0;
}

int cmd_cancel(const ClientConfig& config, const std::vector<std::string>& ids) {
  ApiClient api(config, current_user());
  int code = 0;
  for (const auto& id : ids) {
    auto reply = api.cancel(id);
    if (!reply) {
      std::cerr << "sy: " << reply.error() << "\n";
      code = 1;
    } else if (reply->cancelled.size() > 1 || reply->cancelled.front() != reply->job.id) {
      std::cout << "Cancelled " << reply->cancelled.size() << " tasks of array " << id << "\n";
    } else {
      std::cout << "Cancelled job " << id << "\n";
    }
  }
  return code;
}

}  // namespace sy::cli
