#pragma once
// ApiClient: the controller's /v1 API as typed calls. Errors are the sentence `sy` prints.

#include <optional>
#include <string>
#include <vector>

#include "cli/client_config.hpp"
#include "common/http_client.hpp"
#include "common/job_record.hpp"
#include "common/result.hpp"

namespace sy::cli {

struct SubmitReply {
  JobId id = 0;
  std::vector<JobId> tasks;  // an array's tasks, in index order
  bool created = true;
};

struct CancelReply {
  JobRecord job;
  std::vector<JobId> cancelled;  // more than the job itself when it names a whole array
};

struct ListQuery {
  std::string states = "active";  // comma list, "active" or "all"
  std::optional<std::string> user;
};

class ApiClient {
 public:
  // Throws std::runtime_error when the CA file cannot be loaded.
  ApiClient(const ClientConfig& config, std::string user);

  Result<SubmitReply, std::string> submit(const JobSpec& spec, const std::string& idempotency_key);
  Result<std::vector<JobRecord>, std::string> list(const ListQuery& query);
  // `id`: "12", or "12_3" for a task of an array.
  Result<JobRecord, std::string> get(const std::string& id);
  Result<CancelReply, std::string> cancel(const std::string& id);

  // A slice of the job's output from byte `offset`: {"text", "next", "state"}.
  Result<nlohmann::json, std::string> job_logs(const std::string& id, std::int64_t offset);

  // Nodes come back as the API's JSON (docs/api.md): the CLI only displays them.
  Result<nlohmann::json, std::string> list_nodes();
  Result<nlohmann::json, std::string> get_node(const std::string& name);
  Result<nlohmann::json, std::string> set_drain(const std::string& name, bool drain,
                                                const std::string& reason);

  // Datasets, as the API's JSON. Adding waits for the controller to hash the whole source.
  Result<nlohmann::json, std::string> add_dataset(const std::string& name,
                                                  const std::string& source);
  Result<nlohmann::json, std::string> list_datasets();
  Result<nlohmann::json, std::string> get_dataset(const std::string& name);
  // Orders a node's agent to stage the dataset's current version; then its progress.
  Result<nlohmann::json, std::string> stage_dataset(const std::string& name,
                                                    const std::string& node);
  Result<nlohmann::json, std::string> stage_progress(const std::string& name,
                                                     const std::string& request);

  // The cluster as the dashboard shows it (GET /v1/cluster): GPUs by leaf with their jobs, the
  // queue with reasons.
  Result<nlohmann::json, std::string> cluster();

  // A read-only dashboard session for this user (`ttl` like "8h"; empty: the controller's
  // default): {"token", "user", "expires_time", "url"}.
  Result<nlohmann::json, std::string> open_session(const std::string& ttl);

 private:
  Result<nlohmann::json, std::string> call(const std::string& method, const std::string& target,
                                           const std::string& body, const HttpHeaders& headers,
                                           bool slow = false);
  // Over TCP the controller believes a MUNGE credential, fresh for each request.
  HttpHeaders identity_headers() const;
  HttpClient http_;
  HttpClient slow_http_;  // for requests that read a whole dataset
  std::string user_;
  std::string munge_socket_;
  bool over_tcp_;
  mutable std::string munge_error_;  // why the last credential could not be made
};

// A fresh random key for one submit: a retried submit with it cannot create a second job.
std::string new_idempotency_key();

}  // namespace sy::cli
