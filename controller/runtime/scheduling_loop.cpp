#include "controller/runtime/scheduling_loop.hpp"

#include <pthread.h>
#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <unordered_map>

#include "common/log.hpp"
#include "controller/runtime/snapshot_builder.hpp"

namespace sy::runtime {
namespace {
constexpr auto kPeriodic = std::chrono::seconds(10);  // reservations move with time, too
constexpr auto kMinInterval = std::chrono::milliseconds(100);
}  // namespace

SchedulingLoop::SchedulingLoop(store::CommitQueue& writes, store::JobStore& reads,
                               store::DatasetStore& datasets, nodes::NodeRegistry& registry,
                               sched::Profile profile, std::int64_t fair_share_half_life_ms,
                               Clock now_ms)
    : writes_(writes),
      reads_(reads),
      datasets_(datasets),
      registry_(registry),
      profile_(std::move(profile)),
      half_life_ms_(fair_share_half_life_ms),
      now_ms_(std::move(now_ms)),
      timer_(ioc_),
      delay_(ioc_),
      wake_(ioc_) {}

SchedulingLoop::~SchedulingLoop() {
  stop();
}

void SchedulingLoop::request() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  if (running_) {
    again_ = true;
    return;
  }
  running_ = true;
  schedule_pass();
}

// At once when the last pass is long past; otherwise when the minimum interval is up, so a
// storm of submits costs a pass per interval rather than a pass per submit. The interval is at
// least twice the last pass's own work: under a storm the scheduler takes at most half a core,
// and the API and the writer keep the rest (as Slurm's sched_min_interval does, adapted).
// Requests come from any thread; the timer, last_pass_ and last_cost_ are only touched on the
// loop thread.
void SchedulingLoop::schedule_pass() {
  boost::asio::post(ioc_, [this] {
    const auto due =
        last_pass_ + std::max<std::chrono::steady_clock::duration>(kMinInterval, 2 * last_cost_);
    if (std::chrono::steady_clock::now() >= due) return run_pass();
    delay_.expires_at(due);
    delay_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) run_pass();
    });
  });
}

void SchedulingLoop::start() {
  writes_.set_on_jobs_changed(this, [this](const std::vector<JobId>& ids) {
    queue_.mark(ids);
    request();
  });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sy-scheduler");
    ioc_.run();
  });
  boost::asio::post(ioc_, [this] { periodic(); });
}

void SchedulingLoop::periodic() {
  request();
  timer_.expires_after(kPeriodic);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) periodic();
  });
}

void SchedulingLoop::stop() {
  writes_.set_on_jobs_changed(this, {});
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  // The loop's handlers (a pass among them) finish; the timers' waits are dropped with it.
  work_.reset();
  ioc_.stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void SchedulingLoop::finished() {
  std::lock_guard<std::mutex> lock(mutex_);
  running_ = false;
  if (again_ && !stopped_) {
    again_ = false;
    running_ = true;
    schedule_pass();
  }
}

void SchedulingLoop::run_pass() {
  const std::int64_t now = now_ms_();
  const auto started = std::chrono::steady_clock::now();
  auto datasets = datasets_.list();
  if (auto fresh = queue_.refresh(reads_); !fresh || !datasets) {
    SY_LOG(error, "scheduler") << "cannot read the queue: "
                               << (!fresh ? fresh.error().message : datasets.error().message);
    last_pass_ = started;
    return finished();
  }
  // A pass that finds nobody waiting costs a few reads: it does not hold back the next one (on
  // an idle cluster the submit right after a job's start report is placed at once).
  if (queue_.waiting_count() == 0) return finished();
  last_pass_ = started;
  auto held = queue_.held();
  auto input = std::make_shared<PassInput>(build_pass_input(
      registry_.list(), queue_.pending(), held.allocations, now, datasets.value()));
  input->snapshot.array_active = std::move(held.array_active);
  const auto& pending = input->snapshot.pending;
  std::set<JobId> targets;
  for (const auto& j : pending) {
    for (const auto& d : j.after)
      targets.insert(d.job);
  }
  auto states = reads_.states_of({targets.begin(), targets.end()});
  // Ended use comes from the ledger (one row per account and user), running use from the jobs.
  auto ledger = reads_.usage_ledger();
  if (!ledger || !states) {
    SY_LOG(error, "scheduler") << "cannot read "
                               << (!ledger ? "usage: " + ledger.error().message
                                           : "dependencies: " + states.error().message);
    return finished();
  }
  for (const auto& o : states.value())
    input->snapshot.outcomes[o.id] = outcome_of(o.state);
  input->snapshot.usage =
      sched::fair_share_usage(ledger.value(), held.running_usage, now, half_life_ms_);
  auto decided = std::make_shared<sched::Plan>(sched::plan(input->snapshot, profile_));
  last_cost_ = std::chrono::steady_clock::now() - started;
  if (decided->wake_ms > 0) {
    wake_.expires_after(
        std::chrono::milliseconds(std::max<std::int64_t>(decided->wake_ms - now, 0)));
    wake_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) request();
    });
  }

  // Reasons to write: only where the wait changed since the last pass and the text differs
  // from what the job has.
  std::unordered_map<JobId, std::size_t> index;
  for (std::size_t i = 0; i < pending.size(); ++i)
    index[pending[i].id] = i;
  auto reasons = std::make_shared<std::vector<std::pair<JobId, std::string>>>();
  std::map<JobId, sched::Wait> waits;
  for (const auto& wait : decided->waits) {
    auto last = last_waits_.find(wait.job);
    const bool same =
        last != last_waits_.end() && last->second == wait && wait.why != sched::WaitWhy::reserved;
    waits.emplace(wait.job, wait);
    if (same) continue;
    const std::size_t i = index.at(wait.job);
    std::string text = sched::explain_wait(input->snapshot, *decided, pending[i], wait);
    if (text != queue_.reason(wait.job)) reasons->emplace_back(wait.job, std::move(text));
  }
  last_waits_ = std::move(waits);
  const std::string profile = profile_.name;
  writes_.submit(
      [input, decided, reasons, now, profile](store::Stores& s) -> Result<void, store::StoreError> {
        for (const auto& start : decided->starts) {
          auto rows = allocation_rows(*input, start, start.end_ms);
          auto r =
              s.jobs.start_job(start.job, rows, placement_json(*input, start, profile).dump(), now);
          // A job cancelled since the pass read it is simply not started.
          if (!r && r.error().code != store::StoreError::Code::conflict) return r;
        }
        for (const auto& drop : decided->drops) {
          auto r = s.jobs.apply_event(drop.job, JobEvent::cancel,
                                      "dependency never satisfied: job " +
                                          std::to_string(drop.dependency) +
                                          " did not complete successfully (after_ok)",
                                      now);
          if (!r && r.error().code != store::StoreError::Code::conflict) return fail(r.error());
        }
        for (const auto& [job, reason] : *reasons) {
          if (auto r = s.jobs.set_reason(job, reason); !r) return r;
        }
        return {};
      },
      [this, input, decided, reasons, started](Result<void, store::StoreError> committed) {
        // The next pass must see what this one started as holding its GPUs: read those jobs
        // again before it (the change feed comes only after this).
        std::vector<JobId> moved;
        for (const auto& start : decided->starts)
          moved.push_back(start.job);
        for (const auto& drop : decided->drops)
          moved.push_back(drop.job);
        queue_.mark(moved);
        if (committed) {
          boost::asio::post(ioc_, [this, reasons] {
            for (auto& [job, reason] : *reasons)
              queue_.set_reason(job, std::move(reason));
          });
        }
        if (on_pass_) {
          on_pass_(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        }
        if (committed && on_committed_) {
          std::vector<std::pair<std::string, std::string>> prestage;
          for (const auto& p : decided->prestage)
            prestage.emplace_back(input->snapshot.nodes[p.node].name, p.dataset);
          on_committed_(std::move(prestage));
        }
        if (!committed) {
          SY_LOG(error, "scheduler") << "decisions not saved: " << committed.error().message;
          // What the store holds is unknown now: format every reason again next time.
          boost::asio::post(ioc_, [this] { last_waits_.clear(); });
        } else if (!decided->starts.empty() || !decided->drops.empty()) {
          SY_LOG(info, "scheduler")
              << "started " << decided->starts.size() << " jobs, " << decided->waits.size()
              << " wait, " << decided->drops.size() << " cancelled (dependencies)";
        }
        finished();
      });
}

}  // namespace sy::runtime
