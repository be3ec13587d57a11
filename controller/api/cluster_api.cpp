#include "controller/api/cluster_api.hpp"

#include <optional>
#include <set>

namespace sy::api {

Result<nlohmann::json, std::string> ClusterApi::view(const Viewer& viewer) {
  ClusterInputs in;
  {
    const std::scoped_lock lock(reads_mutex_);
    const auto user = viewer.admin ? std::nullopt : std::optional<std::string>(viewer.user);
    auto placed = reads_.placed_jobs();
    auto held = reads_.allocations();
    auto counts = reads_.count_unfinished(user);
    if (!placed) return fail(placed.error().message);
    if (!held) return fail(held.error().message);
    if (!counts) return fail(counts.error().message);
    for (auto& p : placed.value())
      in.holders.emplace(p.id, std::move(p));
    in.allocations = std::move(held).value();
    in.counts = std::move(counts).value();
    // The queue's page: what holds GPUs first, then what waits, each by id.
    for (const auto& states :
         {std::set<JobState>{JobState::staging, JobState::running},
          std::set<JobState>{JobState::pending, JobState::held, JobState::requeued}}) {
      const auto room = static_cast<int>(kQueueShown) - static_cast<int>(in.queue_jobs.size());
      if (room <= 0) break;
      auto page = reads_.list({states, user, 0, room});
      if (!page) return fail(page.error().message);
      for (auto& j : page.value())
        in.queue_jobs.push_back(std::move(j));
    }
  }
  in.nodes = registry_.list();
  for (const auto& job : in.queue_jobs) {
    if (job.state != JobState::staging) continue;
    StagingProgress p;
    for (const auto& order : staging_.for_job(job.id)) {
      if (order.last.state == "failed") continue;  // resumed by a later order, or the job fails
      p.bytes_done += order.last.bytes_done;
      p.bytes_total += order.last.bytes_total;
    }
    in.staging[job.id] = p;
  }
  return cluster_view(in, viewer);
}

void ClusterApi::handle(ApiRequest request, Responder respond) {
  if (request.path != "/v1/cluster") {
    return respond(error_response(404, "no_such_endpoint", "no endpoint " + request.path));
  }
  if (request.method != "GET") return respond(error_response(405, "method_not_allowed", "use GET"));
  auto v = view({request.user, request.admin});
  if (!v) return respond(error_response(500, "store_error", v.error()));
  respond({200, std::move(v).value()});
}

}  // namespace sy::api
