#include "controller/api/dataset_api.hpp"

#include "common/log.hpp"
#include "common/units.hpp"
#include "controller/nodes/stage_dispatch.hpp"
#include "plugins/staging/staging_backend.hpp"

namespace sy::api {
namespace {

nlohmann::json version_to_json(const store::DatasetVersionRow& v) {
  return {{"version", v.version},
          {"bytes", v.bytes},
          {"files", v.files},
          {"created_time", format_utc_ms(v.created_ms)}};
}

nlohmann::json dataset_to_json(const store::DatasetRow& d) {
  return {{"name", d.name},
          {"source", d.source},
          {"added_by", d.added_by},
          {"created_time", format_utc_ms(d.created_ms)},
          {"updated_time", format_utc_ms(d.updated_ms)},
          {"version", d.current.version},
          {"bytes", d.current.bytes},
          {"files", d.current.files}};
}

ApiResponse store_failure(const store::StoreError& e) {
  return error_response(500, "internal", e.message);
}

}  // namespace

DatasetApi::DatasetApi(store::CommitQueue& writes, store::DatasetStore& reads,
                       const nodes::NodeRegistry& registry, nodes::AgentGateway& agents,
                       nodes::StagingTracker& staging, Clock now_ms, int scan_parallel)
    : writes_(writes),
      reads_(reads),
      registry_(registry),
      agents_(agents),
      staging_(staging),
      now_ms_(std::move(now_ms)),
      scan_parallel_(scan_parallel),
      scanner_([this](const std::stop_token& stop) { scan_loop(stop); }) {}

DatasetApi::~DatasetApi() {
  scanner_.request_stop();
  scans_cv_.notify_all();
}

void DatasetApi::handle(ApiRequest request, Responder respond) {
  const std::string& path = request.path;
  if (path == "/v1/datasets") {
    // An agent runs as root: registering a path as a dataset copies what only root may read.
    if (request.method == "POST") {
      if (auto refused = admins_only(request, "register datasets")) return respond(*refused);
      return add(request, std::move(respond));
    }
    if (request.method != "GET")
      return respond(error_response(405, "method_not_allowed", "use GET or POST"));
    const std::scoped_lock lock(reads_mutex_);
    auto rows = reads_.list();
    if (!rows) return respond(store_failure(rows.error()));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : rows.value())
      out.push_back(dataset_to_json(d));
    return respond({200, {{"datasets", std::move(out)}}});
  }
  std::string name = path.substr(std::string("/v1/datasets/").size());
  std::string action;
  if (const auto slash = name.find('/'); slash != std::string::npos) {
    action = name.substr(slash + 1);
    name.resize(slash);
  }
  if (!dataset::valid_dataset_name(name)) {
    return respond(
        error_response(400, "bad_dataset_name", "'" + name + "' is not a dataset name", "name"));
  }
  if (action == "stage" && request.method == "POST") {
    if (auto refused = admins_only(request, "stage datasets by hand")) return respond(*refused);
    return stage(request, name, std::move(respond));
  }
  if (action.starts_with("stage/") && request.method == "GET") {
    const auto order = staging_.get(action.substr(6));
    if (!order || order->dataset != name) {
      return respond(
          error_response(404, "not_found", "no stage order " + action.substr(6) + " for " + name));
    }
    return respond({200, nodes::stage_request_to_json(*order)});
  }
  if (request.method != "GET") return respond(error_response(405, "method_not_allowed", "use GET"));
  if (action != "" && action != "manifest") {
    return respond(error_response(404, "no_such_endpoint", "no endpoint GET " + path));
  }
  const std::scoped_lock lock(reads_mutex_);
  auto row = reads_.get(name);
  if (!row) return respond(store_failure(row.error()));
  if (!row.value())
    return respond(error_response(404, "not_found", "dataset " + name + " is not registered"));
  if (action == "manifest") {
    const auto q = request.query.find("version");
    const std::string version = q == request.query.end() ? row.value()->current.version : q->second;
    auto m = reads_.manifest(name, version);
    if (!m) return respond(store_failure(m.error()));
    if (!m.value()) {
      return respond(error_response(404, "not_found",
                                    "dataset " + name + " has no version " + version, "version"));
    }
    return respond({200, dataset::to_json(*m.value())});
  }
  auto versions = reads_.versions(name);
  if (!versions) return respond(store_failure(versions.error()));
  nlohmann::json out = dataset_to_json(*row.value());
  out["versions"] = nlohmann::json::array();
  for (const auto& v : versions.value())
    out["versions"].push_back(version_to_json(v));
  out["nodes"] = nlohmann::json::array();
  for (const auto& node : registry_.list()) {
    for (const auto& held : node.datasets) {
      if (held.name != name) continue;
      out["nodes"].push_back({{"node", node.name},
                              {"state", nodes::node_state_name(node.state)},
                              {"version", held.version},
                              {"bytes", held.bytes},
                              {"current", held.version == row.value()->current.version}});
    }
  }
  respond({200, std::move(out)});
}

void DatasetApi::stage(const ApiRequest& request, const std::string& name, Responder respond) {
  if (auto user = requesting_user(request); !user) return respond(user.error());
  auto parsed = object_body(request, {"node"});
  if (!parsed) return respond(parsed.error());
  const nlohmann::json& body = parsed.value();
  if (!body.contains("node") || !body["node"].is_string()) {
    return respond(error_response(400, "bad_body", "must be a node name", "node"));
  }
  const std::string node = body["node"].get<std::string>();
  const auto view = registry_.get(node);
  if (!view)
    return respond(error_response(404, "not_found", "node " + node + " is not registered", "node"));
  if (view->state == nodes::NodeState::down) {
    return respond(error_response(409, "node_down", "node " + node + " is DOWN", "node"));
  }
  Result<std::string, nodes::DispatchFailure> id = fail(nodes::DispatchFailure{});
  {
    const std::scoped_lock lock(reads_mutex_);
    id = nodes::dispatch_stage(reads_, staging_, agents_, registry_, node, name, now_ms_());
  }
  if (!id) {
    using Why = nodes::DispatchFailure::Why;
    const auto& f = id.error();
    return respond(f.why == Why::not_registered ? error_response(404, "not_found", f.message)
                   : f.why == Why::no_agent
                       ? error_response(409, "agent_not_connected", f.message, "node")
                       : error_response(500, "internal", f.message));
  }
  respond({202, nodes::stage_request_to_json(*staging_.get(id.value()))});
}

void DatasetApi::add(const ApiRequest& request, Responder respond) {
  auto asking = requesting_user(request);
  if (!asking) return respond(asking.error());
  const std::string user = asking.value();
  auto parsed = object_body(request, {"name", "source"});
  if (!parsed) return respond(parsed.error());
  const nlohmann::json& body = parsed.value();
  if (!body.contains("name") || !body["name"].is_string() ||
      !dataset::valid_dataset_name(body["name"].get<std::string>())) {
    return respond(
        error_response(400, "bad_body",
                       "must be a dataset name: letters, digits, '.', '_', '-', a letter "
                       "or digit first, at most 64",
                       "name"));
  }
  if (!body.contains("source") || !body["source"].is_string()) {
    return respond(
        error_response(400, "bad_body", "must be a string (/path or file:///path)", "source"));
  }
  const std::string source = body["source"].get<std::string>();
  if (auto backend = staging::make_staging_backend(source); !backend) {
    return respond(error_response(400, "bad_source", backend.error(), "source"));
  }
  {
    const std::scoped_lock lock(scans_mutex_);
    scans_.push_back({body["name"].get<std::string>(), source, user, std::move(respond)});
  }
  scans_cv_.notify_one();
}

void DatasetApi::scan_loop(const std::stop_token& stop) {
  while (true) {
    Scan scan;
    {
      std::unique_lock lock(scans_mutex_);
      if (!scans_cv_.wait(lock, stop, [this] { return !scans_.empty(); })) return;
      scan = std::move(scans_.front());
      scans_.pop_front();
    }
    run_scan(std::move(scan));
  }
}

void DatasetApi::run_scan(Scan scan) {
  auto backend = staging::make_staging_backend(scan.source);
  auto manifest = backend ? backend.value()->scan(scan.name, /*with_digests=*/true, scan_parallel_)
                          : Result<dataset::Manifest, std::string>(fail(backend.error()));
  if (!manifest) {
    return scan.respond(error_response(422, "bad_source", manifest.error(), "source"));
  }
  SY_LOG(info, "datasets") << scan.name << ": scanned " << scan.source << ": "
                           << manifest->files.size() << " files, " << manifest->total_bytes()
                           << " bytes, version " << manifest->version();
  auto is_new = std::make_shared<bool>(false);
  const std::int64_t now = now_ms_();
  writes_.submit(
      [m = manifest.value(), source = scan.source, user = scan.user, now,
       is_new](store::Stores& s) -> Result<void, store::StoreError> {
        auto r = s.datasets.record_scan(source, m, user, now);
        if (!r) return fail(r.error());
        *is_new = r.value();
        return {};
      },
      [this, name = scan.name, is_new,
       respond = std::move(scan.respond)](Result<void, store::StoreError> r) {
        if (!r) return respond(store_failure(r.error()));
        const std::scoped_lock lock(reads_mutex_);
        auto row = reads_.get(name);
        if (!row || !row.value()) {
          return respond(
              error_response(500, "internal", "dataset " + name + " vanished after commit"));
        }
        nlohmann::json out = dataset_to_json(*row.value());
        out["new_version"] = *is_new;
        respond({*is_new ? 201 : 200, std::move(out)});
      });
}

}  // namespace sy::api
