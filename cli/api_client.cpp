#include "cli/api_client.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "common/munge_credential.hpp"

namespace sy::cli {
namespace {

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

tls::Context client_tls(const ClientConfig& config) {
  if (config.controller.kind != ServerAddress::Kind::tls) return nullptr;
  auto ctx = tls::client_context({config.tls_ca, "", ""});
  if (!ctx) throw std::runtime_error(ctx.error());
  return ctx.value();
}

}  // namespace

ApiClient::ApiClient(const ClientConfig& config, std::string user)
    : http_(config.controller, config.timeout, client_tls(config)),
      slow_http_(config.controller, std::max(config.timeout, std::chrono::milliseconds(3'600'000)),
                 client_tls(config)),
      user_(std::move(user)),
      munge_socket_(config.munge_socket),
      over_tcp_(config.controller.kind != ServerAddress::Kind::local) {}

HttpHeaders ApiClient::identity_headers() const {
  // X-Sy-User counts only with a controller run --insecure; the local socket and MUNGE prove.
  HttpHeaders headers{{"X-Sy-User", user_}};
  if (over_tcp_) {
    if (auto credential = munge::encode(munge_socket_)) {
      headers.emplace_back("Authorization", "MUNGE " + credential.value());
    } else {
      munge_error_ = credential.error();
    }
  }
  return headers;
}

Result<nlohmann::json, std::string> ApiClient::call(const std::string& method,
                                                    const std::string& target,
                                                    const std::string& body,
                                                    const HttpHeaders& headers, bool slow) {
  HttpHeaders all = identity_headers();
  all.insert(all.end(), headers.begin(), headers.end());
  auto res = (slow ? slow_http_ : http_).request(method, target, body, all);
  if (!res) {
    return fail("cannot reach the controller: " + res.error() +
                " (is sy-controller running? set --controller or SY_CONTROLLER)");
  }
  auto json = nlohmann::json::parse(res->body, nullptr, false);
  if (json.is_discarded()) {
    return fail("the controller sent an unreadable answer (HTTP " + std::to_string(res->status) +
                ")");
  }
  if (res->status >= 400) {
    if (json.contains("error") && json["error"].contains("message")) {
      std::string message = json["error"]["message"].get<std::string>();
      if (res->status == 401 && !munge_error_.empty()) message += " (" + munge_error_ + ")";
      return fail(message);
    }
    return fail("the controller answered HTTP " + std::to_string(res->status));
  }
  return json;
}

Result<SubmitReply, std::string> ApiClient::submit(const JobSpec& spec,
                                                   const std::string& idempotency_key) {
  auto r = call("POST", "/v1/jobs", job_spec_to_json(spec).dump(),
                {{"Idempotency-Key", idempotency_key}});
  if (!r) return fail(std::move(r).error());
  SubmitReply reply{r->at("id").get<JobId>(), {}, r->value("created", true)};
  if (r->contains("tasks")) reply.tasks = r->at("tasks").get<std::vector<JobId>>();
  return reply;
}

Result<std::vector<JobRecord>, std::string> ApiClient::list(const ListQuery& query) {
  std::vector<JobRecord> out;
  JobId after = 0;
  while (true) {  // follow pages until the controller says there are no more
    std::string target = "/v1/jobs?limit=10000&state=" + url_encode(query.states) +
                         "&after=" + std::to_string(after);
    if (query.user) target += "&user=" + url_encode(*query.user);
    auto r = call("GET", target, "", {});
    if (!r) return fail(std::move(r).error());
    for (const auto& j : r->at("jobs")) {
      auto job = job_record_from_json(j);
      if (!job) return fail(job.error());
      out.push_back(std::move(job).value());
    }
    if (r->at("next_after").is_null()) break;
    after = r->at("next_after").get<JobId>();
  }
  return out;
}

Result<JobRecord, std::string> ApiClient::get(const std::string& id) {
  auto r = call("GET", "/v1/jobs/" + url_encode(id), "", {});
  if (!r) return fail(std::move(r).error());
  return job_record_from_json(r.value());
}

Result<CancelReply, std::string> ApiClient::cancel(const std::string& id) {
  auto r = call("DELETE", "/v1/jobs/" + url_encode(id), "", {});
  if (!r) return fail(std::move(r).error());
  auto job = job_record_from_json(r.value());
  if (!job) return fail(std::move(job).error());
  return CancelReply{std::move(job).value(), r->value("cancelled", std::vector<JobId>{})};
}

Result<nlohmann::json, std::string> ApiClient::job_logs(const std::string& id,
                                                        std::int64_t offset) {
  return call("GET", "/v1/jobs/" + url_encode(id) + "/logs?offset=" + std::to_string(offset), "",
              {});
}

Result<nlohmann::json, std::string> ApiClient::list_nodes() {
  auto r = call("GET", "/v1/nodes", "", {});
  if (!r) return r;
  return r->at("nodes");
}

Result<nlohmann::json, std::string> ApiClient::get_node(const std::string& name) {
  return call("GET", "/v1/nodes/" + url_encode(name), "", {});
}

Result<nlohmann::json, std::string> ApiClient::set_drain(const std::string& name, bool drain,
                                                         const std::string& reason) {
  const std::string body = reason.empty() ? "" : nlohmann::json{{"reason", reason}}.dump();
  return call("POST", "/v1/nodes/" + url_encode(name) + (drain ? "/drain" : "/resume"), body, {});
}

Result<nlohmann::json, std::string> ApiClient::cluster() {
  return call("GET", "/v1/cluster", "", {});
}

Result<nlohmann::json, std::string> ApiClient::open_session(const std::string& ttl) {
  return call("POST", "/v1/sessions", ttl.empty() ? "" : nlohmann::json{{"ttl", ttl}}.dump(), {});
}

Result<nlohmann::json, std::string> ApiClient::add_dataset(const std::string& name,
                                                           const std::string& source) {
  return call("POST", "/v1/datasets", nlohmann::json{{"name", name}, {"source", source}}.dump(), {},
              /*slow=*/true);
}

Result<nlohmann::json, std::string> ApiClient::list_datasets() {
  auto r = call("GET", "/v1/datasets", "", {});
  if (!r) return r;
  return r->at("datasets");
}

Result<nlohmann::json, std::string> ApiClient::get_dataset(const std::string& name) {
  return call("GET", "/v1/datasets/" + url_encode(name), "", {});
}

Result<nlohmann::json, std::string> ApiClient::stage_dataset(const std::string& name,
                                                             const std::string& node) {
  return call("POST", "/v1/datasets/" + url_encode(name) + "/stage",
              nlohmann::json{{"node", node}}.dump(), {});
}

Result<nlohmann::json, std::string> ApiClient::stage_progress(const std::string& name,
                                                              const std::string& request) {
  return call("GET", "/v1/datasets/" + url_encode(name) + "/stage/" + url_encode(request), "", {});
}

std::string new_idempotency_key() {
  std::random_device rd;
  std::uniform_int_distribution<int> nibble(0, 15);
  std::string key = "sy-";
  for (int i = 0; i < 32; ++i)
    key += "0123456789abcdef"[nibble(rd)];
  return key;
}

}  // namespace sy::cli
