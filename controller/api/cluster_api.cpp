#include "controller/api/cluster_api.hpp"

namespace sy::api {

Result<nlohmann::json, std::string> ClusterApi::view(const Viewer& viewer) {
  ClusterInputs in;
  {
    const std::scoped_lock lock(reads_mutex_);
    store::JobFilter active;
    for (JobState s : kAllJobStates) {
      if (!is_terminal(s)) active.states.insert(s);
    }
    active.limit = 100000;
    auto jobs = reads_.list(active);
    auto held = reads_.allocations();
    if (!jobs) return fail(jobs.error().message);
    if (!held) return fail(held.error().message);
    in.active_jobs = std::move(jobs).value();
    in.allocations = std::move(held).value();
  }
  in.nodes = registry_.list();
  for (const auto& job : in.active_jobs) {
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
