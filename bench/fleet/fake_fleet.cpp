#include "bench/fleet/fake_fleet.hpp"

#include <algorithm>
#include <deque>
#include <random>
#include <set>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "common/agent_protocol.hpp"

namespace sy::bench {
namespace {

protocol::JobReport report_of(std::int64_t job, const char* state, int signal = 0) {
  protocol::JobReport r;
  r.job = job;
  r.state = state;
  r.signal = signal;
  return r;
}

}  // namespace

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

struct FakeFleet::Agent : std::enable_shared_from_this<FakeFleet::Agent> {
  Agent(FakeFleet& f, std::string n)
      : fleet(f),
        name(std::move(n)),
        heartbeat(f.ioc_),
        retry(f.ioc_),
        rng(std::hash<std::string>{}(name)) {}

  FakeFleet& fleet;
  std::string name;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  asio::steady_timer heartbeat, retry;
  std::mt19937_64 rng;
  std::uint64_t generation = 0;
  std::int64_t backoff_ms = 100;
  std::int64_t interval_ms = 5000;
  std::int64_t seq = 0;
  std::string instance = protocol::new_agent_instance();
  bool registered = false;
  bool writing = false;
  bool stopping = false;
  std::deque<std::string> outbox;
  // What runs here (and its end timer), and what ended without the controller's ack.
  std::map<std::int64_t, std::shared_ptr<asio::steady_timer>> running;
  std::map<std::int64_t, protocol::JobReport> unacked;

  void connect() {
    if (stopping) return;
    const std::uint64_t gen = ++generation;
    ws = std::make_unique<websocket::stream<beast::tcp_stream>>(fleet.ioc_);
    ws->read_message_max(64 << 20);
    auto self = shared_from_this();
    const tcp::endpoint to(asio::ip::make_address(fleet.options_.controller.host),
                           static_cast<unsigned short>(fleet.options_.controller.port));
    beast::get_lowest_layer(*ws).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(*ws).async_connect(to, [self, gen](beast::error_code ec) {
      if (gen != self->generation) return;
      if (ec) return self->failed(gen);
      beast::get_lowest_layer(*self->ws).expires_never();
      self->ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
      self->ws->async_handshake(self->fleet.options_.controller.to_string(), protocol::kAgentPath,
                                [self, gen](beast::error_code ec2) {
                                  if (gen != self->generation) return;
                                  if (ec2) return self->failed(gen);
                                  self->send_register(gen);
                                  self->read(gen);
                                });
    });
  }

  void send_register(std::uint64_t gen) {
    std::vector<protocol::JobReport> jobs;
    for (const auto& [id, timer] : running)
      jobs.push_back(report_of(id, "running"));
    for (const auto& [id, report] : unacked)
      jobs.push_back(report);
    auto topology = fleet.options_.topology;
    topology.name = name;
    write(gen, protocol::register_message(name, instance, topology, {}, jobs).dump());
  }

  void read(std::uint64_t gen) {
    auto self = shared_from_this();
    ws->async_read(buffer, [self, gen](beast::error_code ec, std::size_t) {
      if (gen != self->generation) return;
      if (ec) return self->failed(gen);
      auto m = nlohmann::json::parse(beast::buffers_to_string(self->buffer.data()), nullptr, false);
      self->buffer.consume(self->buffer.size());
      self->on_message(gen, m);
      if (gen == self->generation) self->read(gen);
    });
  }

  void on_message(std::uint64_t gen, const nlohmann::json& m) {
    auto type = protocol::message_type(m);
    if (!type) return failed(gen);
    const std::string& t = type.value();
    if (t == "registered") {
      interval_ms = std::max<std::int64_t>(50, m.value("heartbeat_interval_ms", 5000));
      backoff_ms = 100;
      if (!registered) fleet.registered_++;
      registered = true;
      fleet.registrations_++;
      // Ends that came after the registration left are not in it: report them now, as the
      // real agent does (JobSupervisor::reconnected).
      for (const auto& [id, report] : unacked)
        write(gen, protocol::job_report_message(report).dump());
      beat(gen);
    } else if (t == "launch") {
      auto order = protocol::read_launch_order(m);
      if (!order) return;
      if (fleet.lost_ < fleet.options_.lose_launches) {  // the fleet's one thread counts
        fleet.lost_++;
        if (fleet.options_.lost_as_restart) instance = protocol::new_agent_instance();
        return failed(gen);  // the order goes with the connection
      }
      launch(gen, order->job);
    } else if (t == "stop") {
      auto id = protocol::read_job_id(m);
      if (!id) return;
      const auto it = running.find(id.value());
      if (it == running.end()) return;
      it->second->cancel();
      running.erase(it);
      fleet.running_--;
      fleet.stopped_++;
      end(gen, report_of(id.value(), "ended", 15));
    } else if (t == "job_ack") {
      if (auto id = protocol::read_job_id(m)) unacked.erase(id.value());
    } else if (t == "error") {
      fleet.refused_++;
      failed(gen);
    }
  }

  void launch(std::uint64_t gen, std::int64_t job) {
    if (running.contains(job)) return;  // the same order again: it runs already
    {
      std::lock_guard<std::mutex> lock(fleet.mutex_);
      fleet.launched_at_.try_emplace(job, Steady::now());
      fleet.launches_[job]++;
    }
    write(gen, protocol::job_report_message(report_of(job, "running")).dump());
    fleet.running_++;
    const auto& o = fleet.options_;
    std::mt19937_64 by_job(static_cast<std::uint64_t>(job));
    const std::int64_t ms = std::uniform_int_distribution<std::int64_t>(
        o.min_duration_ms, std::max(o.min_duration_ms, o.max_duration_ms))(by_job);
    auto timer = std::make_shared<asio::steady_timer>(fleet.ioc_, std::chrono::milliseconds(ms));
    running[job] = timer;
    auto self = shared_from_this();
    timer->async_wait([self, job](beast::error_code ec) {
      if (ec) return;
      self->running.erase(job);
      self->fleet.running_--;
      self->fleet.ended_++;
      self->end(self->generation, report_of(job, "ended"));
    });
  }

  // Kept until acknowledged: a registration after a lost connection reports it again.
  void end(std::uint64_t gen, const protocol::JobReport& report) {
    unacked[report.job] = report;
    if (registered) write(gen, protocol::job_report_message(report).dump());
  }

  void beat(std::uint64_t gen) {
    heartbeat.expires_after(std::chrono::milliseconds(interval_ms));
    auto self = shared_from_this();
    heartbeat.async_wait([self, gen](beast::error_code ec) {
      if (ec || gen != self->generation) return;
      self->write(gen, protocol::heartbeat_message(++self->seq).dump());
      self->beat(gen);
    });
  }

  void write(std::uint64_t gen, std::string text) {
    if (gen != generation || !ws) return;
    outbox.push_back(std::move(text));
    if (!writing) write_next(gen);
  }

  void write_next(std::uint64_t gen) {
    if (outbox.empty()) {
      writing = false;
      return;
    }
    writing = true;
    auto payload = std::make_shared<std::string>(std::move(outbox.front()));
    outbox.pop_front();
    ws->text(true);
    auto self = shared_from_this();
    ws->async_write(asio::buffer(*payload),
                    [self, gen, payload](beast::error_code ec, std::size_t) {
                      if (gen != self->generation) return;
                      if (ec) return self->failed(gen);
                      self->write_next(gen);
                    });
  }

  void failed(std::uint64_t gen) {
    if (gen != generation || stopping) return;
    ++generation;
    if (registered) fleet.registered_--;
    registered = false;
    writing = false;
    outbox.clear();
    heartbeat.cancel();
    beast::error_code ignored;
    if (ws) beast::get_lowest_layer(*ws).socket().close(ignored);
    // Full jitter, as the real agent: a restarted controller does not see the fleet in one burst.
    const std::int64_t delay = std::uniform_int_distribution<std::int64_t>(
        100, std::max<std::int64_t>(100, backoff_ms))(rng);
    backoff_ms = std::min<std::int64_t>(backoff_ms * 2, 2000);
    retry.expires_after(std::chrono::milliseconds(delay));
    auto self = shared_from_this();
    retry.async_wait([self](beast::error_code ec) {
      if (!ec) self->connect();
    });
  }

  void stop() {
    stopping = true;
    ++generation;
    heartbeat.cancel();
    retry.cancel();
    for (auto& [id, timer] : running)
      timer->cancel();
    beast::error_code ignored;
    if (ws) beast::get_lowest_layer(*ws).socket().close(ignored);
  }
};

FakeFleet::FakeFleet(FleetOptions options) : options_(std::move(options)) {
  for (int i = 0; i < options_.nodes; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "%s%05d", options_.name_prefix.c_str(), i);
    agents_.push_back(std::make_shared<Agent>(*this, name));
  }
}

FakeFleet::~FakeFleet() {
  stop();
}

void FakeFleet::start() {
  // Connections start at the rate asked for (0: all at once), spread by timers.
  const int rate = options_.connects_per_s;
  for (std::size_t i = 0; i < agents_.size(); ++i) {
    auto agent = agents_[i];
    if (rate <= 0) {
      asio::post(ioc_, [agent] { agent->connect(); });
      continue;
    }
    auto timer = std::make_shared<asio::steady_timer>(
        ioc_, std::chrono::microseconds(static_cast<std::int64_t>(i) * 1'000'000 / rate));
    timer->async_wait([agent, timer](beast::error_code ec) {
      if (!ec) agent->connect();
    });
  }
  threads_.emplace_back([this] {
    auto guard = asio::make_work_guard(ioc_);
    ioc_.run();
  });
}

void FakeFleet::stop() {
  if (threads_.empty()) return;
  asio::post(ioc_, [this] {
    for (auto& a : agents_)
      a->stop();
    ioc_.stop();
  });
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

FleetCounts FakeFleet::counts() const {
  FleetCounts c;
  c.registered_nodes = registered_;
  c.registrations = registrations_;
  c.running = running_;
  c.ended = ended_;
  c.stopped = stopped_;
  c.refused_messages = refused_;
  c.lost_launches = lost_;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [job, n] : launches_) {
    c.launches += n;
    if (n > 1) c.launched_twice++;
  }
  return c;
}

std::optional<Steady::time_point> FakeFleet::launched_at(std::int64_t job) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = launched_at_.find(job);
  if (it == launched_at_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sy::bench
