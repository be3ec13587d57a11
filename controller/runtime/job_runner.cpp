#include "controller/runtime/job_runner.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <memory>

#include "common/comma_list.hpp"
#include "common/log.hpp"
#include "common/slurm/job_environment.hpp"
#include "common/units.hpp"
#include "controller/nodes/stage_dispatch.hpp"

namespace sy::runtime {
namespace {

constexpr auto kPeriodic = std::chrono::seconds(2);
constexpr auto kMinSweepInterval = std::chrono::milliseconds(200);
// A stage cut short by a lost agent connection is ordered again this many times per job, node
// and dataset; it resumes where it stopped each time.
constexpr int kMaxResends = 5;
constexpr int kMaxStops = 5;  // one per drive (2 s) while the job's end is not reported

bool ended(const nodes::StageRequest& r) {
  return r.last.state == "done" || r.last.state == "failed";
}

// The placement's nodes, first node first, and the first node's GPUs.
std::vector<std::string> placed_nodes(const JobRecord& job) {
  std::vector<std::string> out;
  if (!job.placement.is_object() || !job.placement.contains("nodes")) return out;
  for (const auto& n : job.placement["nodes"])
    out.push_back(n.value("node", std::string()));
  return out;
}

}  // namespace

JobRunner::JobRunner(boost::asio::io_context& ioc, store::CommitQueue& writes,
                     store::JobStore& reads, store::DatasetStore& datasets,
                     nodes::NodeRegistry& registry, nodes::StagingTracker& staging,
                     nodes::AgentGateway& agents, Clock now_ms, std::int64_t default_time_limit_ms)
    : ioc_(ioc),
      writes_(writes),
      reads_(reads),
      datasets_(datasets),
      registry_(registry),
      staging_(staging),
      agents_(agents),
      now_ms_(std::move(now_ms)),
      timer_(ioc),
      delay_(ioc),
      default_time_limit_ms_(default_time_limit_ms) {}

JobRunner::~JobRunner() {
  writes_.set_on_jobs_changed(this, {});
}

void JobRunner::start() {
  writes_.set_on_jobs_changed(this, [this](const std::vector<std::int64_t>& ids) {
    boost::asio::post(ioc_, [this, ids] {
      if (!stopped_) refresh(ids);
    });
  });
  periodic();
}

void JobRunner::periodic() {
  boost::asio::post(ioc_, [this] { drive(); });
  timer_.expires_after(kPeriodic);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) periodic();
  });
}

void JobRunner::stop() {
  boost::asio::post(ioc_, [this] {
    stopped_ = true;
    timer_.cancel();
    delay_.cancel();
  });
}

// At once when the last sweep is long past, otherwise when the minimum interval is up: a fleet
// registering again after a restart costs a sweep per interval, not one per registration.
void JobRunner::request() {
  boost::asio::post(ioc_, [this] {
    if (queued_ || stopped_) return;
    queued_ = true;
    const auto due = last_sweep_ + kMinSweepInterval;
    if (std::chrono::steady_clock::now() >= due) return drive();
    delay_.expires_at(due);
    delay_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) drive();
    });
  });
}

void JobRunner::on_job_reports(const std::string& node,
                               const std::vector<protocol::JobReport>& reports,
                               nodes::AgentGateway::Reports kind, std::uint64_t registration) {
  boost::asio::post(ioc_, [this, node, reports, kind, registration] {
    if (!stopped_) handle_reports(node, reports, kind, registration);
  });
}

Result<JobRunner::Versions, store::StoreError> JobRunner::current_versions() {
  auto registered = datasets_.list();
  if (!registered) return fail(registered.error());
  Versions current;
  for (const auto& d : registered.value())
    current[d.name] = d.current.version;
  return current;
}

bool JobRunner::load() {
  auto placed = reads_.list({.states = {JobState::staging, JobState::running},
                             .user = std::nullopt,
                             .after_id = 0,
                             .limit = 1 << 30});
  if (!placed) {
    SY_LOG(error, "jobs") << "cannot read the placed jobs: " << placed.error().message;
    return false;
  }
  for (auto& job : placed.value()) {
    const std::int64_t id = job.id;
    placed_.insert_or_assign(id, std::move(job));
  }
  loaded_ = true;
  return true;
}

void JobRunner::refresh(const std::vector<std::int64_t>& ids) {
  if (!loaded_) return request();  // the first sweep reads them all
  std::optional<Versions> current;
  for (const std::int64_t id : ids) {
    auto job = reads_.get(id);
    if (!job) {
      SY_LOG(error, "jobs") << "job " << id << ": cannot read it: " << job.error().message;
      continue;
    }
    const bool placed = job.value() && (job.value()->state == JobState::staging ||
                                        job.value()->state == JobState::running);
    if (placed) {
      const auto& record = placed_.insert_or_assign(id, std::move(*job.value())).first->second;
      drive_job(record, current);
      continue;
    }
    placed_.erase(id);
    unsent_.erase(id);
    // Ended here while its processes may run (cancelled): they are stopped now, and by the
    // sweeps after while their end is not reported.
    const auto l = launched_.find(id);
    if (l != launched_.end() && !settling_.contains(id) && !stop_ended(id, l->second)) {
      launched_.erase(l);
    }
  }
}

void JobRunner::drive() {
  queued_ = false;
  if (stopped_) return;
  last_sweep_ = std::chrono::steady_clock::now();
  if (!loaded_ && !load()) return;
  std::optional<Versions> current;
  for (const auto& [id, job] : placed_)
    drive_job(job, current);
  for (auto it = launched_.begin(); it != launched_.end();) {
    const std::int64_t id = it->first;
    if (placed_.contains(id) || settling_.contains(id) || stop_ended(id, it->second)) {
      ++it;
    } else {
      it = launched_.erase(it);
    }
  }
}

bool JobRunner::stop_ended(std::int64_t id, Launch& l) {
  // Its end report forgets it; an agent that never got the launch has nothing to report, so a
  // few stops are enough.
  if (++stops_[id] > kMaxStops) {
    stops_.erase(id);
    return false;
  }
  for (const auto& node : l.nodes) {
    if (!l.ended.contains(node)) {
      agents_.send_to(node, protocol::stop_message(id, "the job was cancelled"));
    }
  }
  return true;
}

void JobRunner::drive_job(const JobRecord& job, std::optional<Versions>& current) {
  if (settling_.contains(job.id)) return;
  const auto down = [this](const std::string& n) {
    const auto state = registry_.state_of(n);
    return !state || *state == nodes::NodeState::down;
  };
  if (job.state == JobState::running) {
    // A sweep visits every running job: its launch holds the node names, so the placement's
    // JSON is read once per job (after a restart), not once per sweep.
    auto it = launched_.find(job.id);
    if (it == launched_.end()) {
      auto l = launch_of(job);
      if (l.nodes.empty()) return;
      it = launched_.emplace(job.id, std::move(l)).first;
    }
    auto& l = it->second;
    for (const auto& n : l.nodes) {
      if (!down(n)) continue;
      stop_everywhere(job.id, l, "node " + n + " went DOWN");
      // Forget this launch: placed again, the job launches afresh; what still runs of it on
      // the lost node is stopped when that agent comes back and reports it.
      const std::int64_t id = job.id;
      return settle(id, job.spec.requeue ? JobEvent::requeue : JobEvent::fail,
                    "node " + n + " went DOWN while the job ran", std::nullopt,
                    [this, id] { forget_launch(id); });
    }
    resend(job);
    return enforce_time_limit(job, l);
  }
  if (launched_.contains(job.id)) return;  // its agent's answer is on the way
  const auto nodes = placed_nodes(job);
  if (nodes.empty()) return;
  for (const auto& n : nodes) {
    if (down(n)) {
      return settle(
          job.id, JobEvent::requeue,
          "node " + n + " went DOWN while the job was staging; it waits to be placed again");
    }
  }
  if (!current) {
    auto read = current_versions();
    if (!read) {
      SY_LOG(error, "jobs") << "cannot read the datasets: " << read.error().message;
      return;
    }
    current = std::move(read).value();
  }
  drive_staging(job, nodes, *current);
}

JobRunner::Launch JobRunner::launch_of(const JobRecord& job) {
  Launch l;
  l.launcher = job.spec.launcher;
  l.nodes = placed_nodes(job);
  // A Slurm batch script runs on the first node and reaches the others through srun.
  l.leader_decides = l.launcher == Launcher::mpi || job.spec.slurm.has_value();
  if (l.launcher == Launcher::none && !job.spec.slurm && l.nodes.size() > 1) l.nodes.resize(1);
  return l;
}

JobRunner::Launch* JobRunner::known_launch(std::int64_t id) {
  if (const auto it = launched_.find(id); it != launched_.end()) return &it->second;
  if (const auto it = placed_.find(id); it != placed_.end()) {
    auto l = launch_of(it->second);
    if (l.nodes.empty()) return nullptr;
    return &launched_.emplace(id, std::move(l)).first->second;
  }
  // Not among the placed jobs (not read yet after a restart, or the feed is on its way).
  auto job = reads_.get(id);
  if (!job || !job.value()) return nullptr;
  const auto state = job.value()->state;
  if (state != JobState::running && state != JobState::staging) return nullptr;
  auto l = launch_of(*job.value());
  if (l.nodes.empty()) return nullptr;
  return &launched_.emplace(id, std::move(l)).first->second;
}

void JobRunner::stop_everywhere(std::int64_t job, Launch& l, const std::string& reason) {
  l.stopped = true;
  for (const auto& node : l.nodes) {
    if (!l.ended.contains(node)) agents_.send_to(node, protocol::stop_message(job, reason));
  }
}

void JobRunner::enforce_time_limit(const JobRecord& job, Launch& l) {
  if (!job.start_ms) return;
  const std::int64_t limit_ms =
      job.spec.time_limit_s ? *job.spec.time_limit_s * 1000 : default_time_limit_ms_;
  const std::int64_t now = now_ms_();
  if (now < *job.start_ms + limit_ms) return;
  // Asked again every half minute while its end is not reported (the agent may have been away).
  const auto sent = timed_out_.find(job.id);
  if (sent != timed_out_.end() && now - sent->second < 30'000) return;
  timed_out_[job.id] = now;
  SY_LOG(info, "jobs") << "job " << job.id << ": time limit reached; stopping it";
  stop_everywhere(job.id, l, "time limit of " + format_duration(limit_ms / 1000) + " reached");
}

void JobRunner::drive_staging(const JobRecord& job, const std::vector<std::string>& nodes,
                              const std::map<std::string, std::string>& current) {
  const std::int64_t now = now_ms_();
  bool ready = true;
  for (const auto& ds : job.spec.datasets) {
    const auto version = current.find(ds);
    if (version == current.end()) {
      return settle(job.id, JobEvent::fail, "dataset " + ds + " is not registered");
    }
    for (const auto& node : nodes) {
      // Every copy is checked for this job, even one the node already holds: a check of an
      // intact copy costs one stat per file, and it finds a copy changed since it was staged.
      const auto order = staging_.latest(node, ds, version->second);
      if (order && order->jobs.contains(job.id) && order->last.state == "done") continue;
      ready = false;
      if (order && !ended(*order)) {
        staging_.attach(order->id, job.id);
        continue;
      }
      // A check that found no copy (evicted since it was reported): order the whole copy.
      const bool missing =
          order && order->last.state == "failed" && order->last.error_kind == "missing";
      if (order && order->last.state == "failed" && order->jobs.contains(job.id) && !missing) {
        const bool resumable = order->last.error_kind == "agent";
        if (!resumable || ++resends_[{job.id, node + "/" + ds}] > kMaxResends) {
          return settle(job.id, JobEvent::fail,
                        "staging dataset " + ds + "@" + version->second + " to " + node +
                            " failed (" + order->last.error_kind + "): " + order->last.message);
        }
      }
      if (!agents_.connected(node)) continue;  // it reconnects, or the node goes DOWN
      auto sent = nodes::dispatch_stage(datasets_, staging_, agents_, registry_, node, ds, now,
                                        job.id, missing);
      if (!sent) {
        if (sent.error().why == nodes::DispatchFailure::Why::not_registered) {
          return settle(job.id, JobEvent::fail, sent.error().message);
        }
        SY_LOG(warn, "jobs") << "job " << job.id << ": " << sent.error().message;
        continue;
      }
      SY_LOG(info, "jobs") << "job " << job.id << ": staging " << ds << "@" << version->second
                           << " to " << node << " (" << sent.value() << ")";
    }
  }
  if (ready) launch(job);
}

std::optional<JobRunner::Orders> JobRunner::launch_orders(const JobRecord& job) {
  const Launch l = launch_of(job);
  const auto& placed = job.placement["nodes"];
  protocol::LaunchOrder common;
  common.job = job.id;
  common.command = job.spec.command;
  common.script = job.spec.script.value_or("");
  common.env = job.spec.env;
  // What a job may want to know about itself, named as Slurm's SLURM_* are.
  common.env["SY_JOB_NAME"] = job.spec.name;
  common.env["SY_NODELIST"] = join_commas(placed_nodes(job));
  common.env["SY_NNODES"] = std::to_string(job.spec.resources.nodes);
  if (job.array_id) {
    common.env["SY_ARRAY_JOB_ID"] = std::to_string(*job.array_id);
    common.env["SY_ARRAY_TASK_ID"] = std::to_string(job.array_index.value_or(0));
  }
  common.workdir = job.spec.workdir.value_or("");
  common.launcher = std::string(launcher_name(job.spec.launcher));
  common.user = job.user;
  // Ranks follow the nodes' order, one per GPU (one per node without GPUs).
  std::vector<int> slots;
  int world = 0;
  for (std::size_t i = 0; i < l.nodes.size(); ++i) {
    slots.push_back(std::max<int>(1, static_cast<int>(placed[i]["gpus"].size())));
    world += slots.back();
  }
  common.world_size = world;
  if (job.spec.launcher == Launcher::env) {
    common.master_addr = agents_.address_of(l.nodes.front());
    if (common.master_addr.empty()) return std::nullopt;
    // torchrun's default port, spread by job so that jobs sharing a first node do not meet.
    common.master_port = 29500 + static_cast<int>(job.id % 1000);
  }
  if (job.spec.launcher == Launcher::mpi) {
    for (std::size_t i = 0; i < l.nodes.size(); ++i)
      common.hosts.push_back({.node = l.nodes[i], .slots = slots[i]});
  }
  if (job.spec.slurm) {
    for (const auto& [k, v] : slurm::job_environment(job, l.nodes))
      common.env[k] = v;
    common.slurm = true;
  }
  Orders orders;
  int first_rank = 0;
  for (std::size_t i = 0; i < l.nodes.size(); ++i) {
    protocol::LaunchOrder order = common;
    order.leader = i == 0;
    order.first_rank = first_rank;
    first_rank += slots[i];
    if (order.leader) order.outputs = job.spec.outputs;
    for (const auto& g : placed[i]["gpus"])
      order.gpus.push_back(g.get<int>());
    // What the scheduler counted against the node for it, for the agent to enforce.
    const int gpus_here = std::max<int>(1, static_cast<int>(order.gpus.size()));
    order.cpus = job.spec.resources.cpus_per_gpu * gpus_here;
    order.memory_mib = job.spec.resources.memory_per_gpu_mib.value_or(0) * gpus_here;
    if (job.spec.slurm) {
      for (const auto& [k, v] :
           slurm::node_environment(static_cast<int>(i), l.nodes[i], order.gpus))
        order.env[k] = v;
      if (order.leader) {
        const auto files = slurm::output_files(job, l.nodes);
        order.stdout_path = files.stdout_path;
        order.stderr_path = files.stderr_path;
      }
    }
    const auto view = registry_.get(l.nodes[i]);
    for (const auto& ds : job.spec.datasets) {
      for (const auto& c : view ? view->datasets : std::vector<protocol::CachedDataset>{}) {
        if (c.name == ds) order.datasets.push_back(c);
      }
    }
    orders.emplace_back(l.nodes[i], std::move(order));
  }
  return orders;
}

void JobRunner::launch(const JobRecord& job) {
  auto made = launch_orders(job);
  if (!made) return;  // tried again next time
  Orders orders = std::move(made).value();
  for (const auto& [node, order] : orders) {
    if (!agents_.connected(node)) return;  // tried again next time
  }
  Launch l = launch_of(job);
  // The launch is recorded (RUNNING) before any order leaves. An agent that comes back without
  // the job may have started it before it died: the job is then lost (failed, or requeued when
  // it asks), never launched a second time as if it had not run.
  const std::int64_t id = job.id;
  launched_[id] = std::move(l);
  settling_.insert(id);
  const std::int64_t now = now_ms_();
  auto recorded = std::make_shared<bool>(false);
  writes_.submit(
      [id, now, recorded](store::Stores& s) -> Result<void, store::StoreError> {
        auto record = s.jobs.get(id);
        if (!record) return fail(record.error());
        if (!record.value() || record.value()->state != JobState::staging) return {};
        auto applied = s.jobs.apply_event(id, JobEvent::launch, "", now);
        if (!applied) return fail(applied.error());
        *recorded = true;
        return {};
      },
      [this, id, recorded, orders = std::move(orders),
       what = std::string(launcher_name(job.spec.launcher)) + ") on " +
              join_commas(placed_nodes(job))](Result<void, store::StoreError> r) {
        boost::asio::post(ioc_, [this, id, recorded, orders, what, r] {
          settling_.erase(id);
          if (!r || !*recorded) {
            // Not recorded (the store failed, or the job moved on, e.g. cancelled): nothing sent.
            if (!r) {
              SY_LOG(error, "jobs") << "job " << id << ": launch not saved: " << r.error().message;
            }
            launched_.erase(id);
            return;
          }
          // A node whose connection dropped since gets no order; its agent comes back without
          // the job, which is then lost like any other.
          const auto launch = launched_.find(id);
          for (const auto& [node, order] : orders) {
            const std::uint64_t sent_on = agents_.send_to(node, protocol::launch_message(order));
            if (launch != launched_.end()) launch->second.sent_on[node] = sent_on;
          }
          SY_LOG(info, "jobs") << "job " << id << ": launching (" << what;
          if (on_change_) on_change_();
        });
      });
}

namespace {

std::string end_reason(const std::string& node, const protocol::JobReport& r, Launcher launcher) {
  // One process (none) speaks for itself; otherwise say which rank, or that it was mpirun.
  std::string who;
  if (launcher == Launcher::mpi) {
    who = r.rank >= 0 ? "mpirun (rank " + std::to_string(r.rank) + " failed first) " : "mpirun ";
  } else if (launcher == Launcher::env && r.rank >= 0) {
    who = "rank " + std::to_string(r.rank) + " on " + node + " ";
  }
  std::string why = r.signal != 0 ? who + "killed by signal " + std::to_string(r.signal)
                                  : who + "exited with code " + std::to_string(r.exit_code);
  if (!r.message.empty()) why += " (" + r.message + ")";
  if (!r.outputs_error.empty()) why += "; stage-out failed: " + r.outputs_error;
  return why;
}

bool ok(const protocol::JobReport& r) {
  return r.exit_code == 0 && r.signal == 0 && r.outputs_error.empty();
}

}  // namespace

void JobRunner::handle_reports(const std::string& node,
                               const std::vector<protocol::JobReport>& reports,
                               nodes::AgentGateway::Reports kind, std::uint64_t registration) {
  using Reports = nodes::AgentGateway::Reports;
  std::set<std::int64_t> reported;
  for (const auto& r : reports) {
    reported.insert(r.job);
    if (stray(node, r)) continue;
    if (r.state == "running") {
      // Every registration lists what runs: a job known RUNNING has nothing to record.
      const auto known = placed_.find(r.job);
      if (known == placed_.end() || known->second.state != JobState::running) {
        settle(r.job, JobEvent::launch, "");
      }
    } else if (r.state == "staging_out") {
      const std::int64_t id = r.job;
      const std::string reason = "staging out: " + r.message;
      writes_.submit([id, reason](store::Stores& s) { return s.jobs.set_reason(id, reason); },
                     [](const Result<void, store::StoreError>&) {});
    } else if (r.state == "refused") {
      if (Launch* l = known_launch(r.job)) {
        l->ended[node] = r;
        stop_everywhere(r.job, *l, "the job could not start on " + node);
      }
      settle(r.job, JobEvent::fail, "could not start on " + node + ": " + r.message);
    } else {
      job_ended(node, r);
    }
  }
  if (kind != Reports::one) lost_on(node, reported, kind == Reports::same_agent, registration);
}

bool JobRunner::stray(const std::string& node, const protocol::JobReport& r) {
  if (settling_.contains(r.job)) return false;  // its state is being written: judge it after
  const Launch* l = known_launch(r.job);
  if (l && std::find(l->nodes.begin(), l->nodes.end(), node) != l->nodes.end()) return false;
  // Not (or no longer) this job's node: it was requeued and moved, cancelled, or ended while
  // this agent was away. What runs is stopped; what ended is acknowledged, so that the agent
  // forgets it, and nothing it says moves the job's current run.
  if (r.state == "running" || r.state == "staging_out") {
    SY_LOG(warn, "jobs") << "job " << r.job << ": still running on " << node
                         << ", which no longer holds it; stopping it there";
    agents_.send_to(node, protocol::stop_message(r.job, "the job no longer runs on " + node));
  } else {
    agents_.send_to(node, protocol::job_ack_message(r.job));
  }
  return true;
}

void JobRunner::forget_launch(std::int64_t id) {
  launched_.erase(id);
  unsent_.erase(id);
  stops_.erase(id);
  timed_out_.erase(id);
}

void JobRunner::job_ended(const std::string& node, const protocol::JobReport& r) {
  const std::int64_t id = r.job;
  Launch* l = known_launch(id);
  if (!l) {
    // Ended here already (cancelled, failed on another node): the agent may forget it.
    agents_.send_to(node, protocol::job_ack_message(id));
    return;
  }
  l->ended[node] = r;
  const bool leader = !l->nodes.empty() && node == l->nodes.front();
  if (!ok(r) && !l->first_failure) l->first_failure = std::pair{node, r};
  if (!l->stopped) {
    if (!ok(r)) {
      stop_everywhere(id, *l,
                      (r.rank >= 0 ? "rank " + std::to_string(r.rank) + " on " : "the job on ") +
                          node + " failed");
    } else if (l->leader_decides && leader) {
      stop_everywhere(id, *l,
                      l->launcher == Launcher::mpi ? "mpirun ended" : "the batch script ended");
    }
  }
  for (const auto& n : l->nodes) {
    if (!l->ended.contains(n)) return;  // the others' ends are on the way
  }
  // Every node has ended: an mpi job is what its mpirun says; others, the first failure.
  std::string where = l->nodes.front();
  protocol::JobReport result = l->ended[where];
  if (!l->leader_decides && l->first_failure) {
    where = l->first_failure->first;
    result = l->first_failure->second;
  }
  for (const auto& [n, report] : l->ended) {
    if (!report.outputs_error.empty()) result.outputs_error = report.outputs_error;
  }
  const bool success = ok(result);
  std::vector<std::string> nodes = l->nodes;
  settle(
      id, success ? JobEvent::complete : JobEvent::fail,
      success ? "" : end_reason(where, result, l->launcher),
      result.signal != 0 ? 128 + result.signal : result.exit_code,
      [this, id, nodes] {
        forget_launch(id);
        for (const auto& n : nodes)
          agents_.send_to(n, protocol::job_ack_message(id));
      },
      true);
}

void JobRunner::on_exec_message(const std::string& node, const std::string& type,
                                const nlohmann::json& message) {
  boost::asio::post(ioc_, [this, node, type, message] {
    if (!stopped_) handle_exec(node, type, message);
  });
}

void JobRunner::handle_exec(const std::string& node, const std::string& type,
                            const nlohmann::json& m) {
  if (type == "exec_report") {
    auto r = protocol::read_exec_report(m);
    if (!r) {
      SY_LOG(warn, "jobs") << "node " << node << ": " << r.error();
      return;
    }
    const auto it = execs_.find(r->request);
    if (it == execs_.end()) return;
    agents_.send_to(it->second, protocol::exec_report_message(r.value()));
    if (r->state == "ended" || r->state == "failed") execs_.erase(it);
    return;
  }
  auto order = protocol::read_exec(m);
  if (!order) {
    SY_LOG(warn, "jobs") << "node " << node << ": " << order.error();
    return;
  }
  const auto refuse = [&](const std::string& why) {
    SY_LOG(warn, "jobs") << "job " << order->job << ": exec from " << node << " to " << order->node
                         << " refused: " << why;
    agents_.send_to(node, protocol::exec_report_message({.request = order->request,
                                                         .job = order->job,
                                                         .state = "failed",
                                                         .exit_code = 0,
                                                         .message = why}));
  };
  Launch* l = known_launch(order->job);
  const auto holds = [&](const std::string& n) {
    return l && std::find(l->nodes.begin(), l->nodes.end(), n) != l->nodes.end();
  };
  // A job may start processes only on its own nodes, and only from one of them.
  if (!holds(node)) return refuse("job " + std::to_string(order->job) + " does not run on " + node);
  if (!holds(order->node)) {
    return refuse("node " + order->node + " is not one of job " + std::to_string(order->job) +
                  "'s nodes");
  }
  if (execs_.contains(order->request)) return refuse("request " + order->request + " is in use");
  const std::string target = order->node;
  order->node = node;
  if (!agents_.send_to(target, protocol::exec_message(order.value()))) {
    return refuse("node " + target + "'s agent is not connected");
  }
  execs_[order->request] = node;
}

bool JobRunner::sent_since(std::int64_t job, const std::string& node,
                           std::uint64_t registration) const {
  const auto l = launched_.find(job);
  if (l == launched_.end()) return false;
  const auto sent = l->second.sent_on.find(node);
  return sent != l->second.sent_on.end() && sent->second >= registration;
}

void JobRunner::lost_on(const std::string& node, const std::set<std::int64_t>& reported,
                        bool same_agent, std::uint64_t registration) {
  // The same agent's launches stand as they were: only their orders may be missing.
  for (auto it = launched_.begin(); !same_agent && it != launched_.end();) {
    // Not reported by the agent: a launch still being recorded sends its orders once it is;
    // a recorded one (RUNNING) is lost and judged below. Either way this entry is stale.
    const auto& nodes = it->second.nodes;
    if (std::find(nodes.begin(), nodes.end(), node) != nodes.end() &&
        !reported.contains(it->first) && !it->second.ended.contains(node) &&
        !sent_since(it->first, node, registration)) {
      it = launched_.erase(it);
    } else {
      ++it;
    }
  }
  auto running = reads_.running_on(node);
  if (!running) {
    SY_LOG(error, "jobs") << "cannot read the running jobs: " << running.error().message;
    return;
  }
  for (const auto& job : running.value()) {
    const auto nodes = launch_of(job).nodes;
    // A job of a `none` launcher spread over several nodes runs on its first only.
    if (std::find(nodes.begin(), nodes.end(), node) == nodes.end() || reported.contains(job.id) ||
        sent_since(job.id, node, registration)) {
      continue;
    }
    // The same agent never received its order (a launch still being recorded sends it then).
    // A job being stopped is not started here to be stopped: it is lost as below.
    if (same_agent && !stopping(job.id)) {
      if (settling_.contains(job.id)) continue;
      unsent_[job.id].insert(node);
      resend(job);
      continue;
    }
    // Its processes on the other nodes cannot go on without those lost here.
    auto l = launch_of(job);
    stop_everywhere(job.id, l, "lost on " + node);
    const std::int64_t id = job.id;
    settle(id, job.spec.requeue ? JobEvent::requeue : JobEvent::fail,
           "lost: the agent on " + node + " registered again without it (the agent restarted)",
           std::nullopt, [this, id] { forget_launch(id); });
  }
}

bool JobRunner::stopping(std::int64_t id) const {
  const auto it = launched_.find(id);
  return it != launched_.end() && it->second.stopped;
}

void JobRunner::resend(const JobRecord& job) {
  const auto it = unsent_.find(job.id);
  if (it == unsent_.end()) return;
  auto orders = launch_orders(job);
  if (!orders) return;  // its first node is away: the next sweep tries again
  for (const auto& [node, order] : orders.value()) {
    if (!it->second.contains(node)) continue;
    const std::uint64_t sent_on = agents_.send_to(node, protocol::launch_message(order));
    if (sent_on == 0) continue;
    if (Launch* l = known_launch(job.id)) l->sent_on[node] = sent_on;
    it->second.erase(node);
    SY_LOG(info, "jobs") << "job " << job.id << ": launch order sent to " << node
                         << " again (its agent never received it)";
  }
  if (it->second.empty()) unsent_.erase(it);
}

void JobRunner::settle(std::int64_t job, JobEvent event, std::string reason,
                       std::optional<int> exit_code, std::function<void()> after, bool ran) {
  settling_.insert(job);
  const std::int64_t now = now_ms_();
  auto changed = std::make_shared<bool>(false);
  writes_.submit(
      [job, event, reason, exit_code, ran, now,
       changed](store::Stores& s) -> Result<void, store::StoreError> {
        auto record = s.jobs.get(job);
        if (!record) return fail(record.error());
        if (!record.value()) return {};
        JobState state = record.value()->state;
        // The process's end reported before its start was recorded: it did start.
        if (ran && state == JobState::staging) {
          auto launched = s.jobs.apply_event(job, JobEvent::launch, "", now);
          if (!launched) return fail(launched.error());
          state = JobState::running;
        }
        if (!next_state(state, event)) return {};  // it moved on already (e.g. cancelled)
        auto applied = s.jobs.apply_event(job, event, reason, now, exit_code);
        if (!applied) return fail(applied.error());
        *changed = true;
        return {};
      },
      [this, job, event, changed, after = std::move(after)](Result<void, store::StoreError> r) {
        boost::asio::post(ioc_, [this, job, event, changed, after, r] {
          settling_.erase(job);
          if (!r) {
            SY_LOG(error, "jobs") << "job " << job << ": " << event_name(event)
                                  << " not saved: " << r.error().message;
            return;
          }
          if (after) after();
          if (*changed && on_change_) on_change_();
        });
      });
}

void JobRunner::prestage(const std::vector<std::pair<std::string, std::string>>& wanted) {
  boost::asio::post(ioc_, [this, wanted] {
    if (stopped_) return;
    auto current = current_versions();
    if (!current) return;
    for (const auto& [node, ds] : wanted) {
      const auto version = current->find(ds);
      if (version == current->end() || !agents_.connected(node)) continue;
      if (nodes::node_holds(registry_, node, ds, version->second)) continue;
      const auto order = staging_.latest(node, ds, version->second);
      if (order && (!ended(*order) || order->last.state == "failed")) continue;
      if (nodes::dispatch_stage(datasets_, staging_, agents_, registry_, node, ds, now_ms_())) {
        SY_LOG(info, "jobs") << "pre-staging " << ds << " to " << node;
      }
    }
  });
}

}  // namespace sy::runtime
