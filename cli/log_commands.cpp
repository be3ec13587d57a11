// sy logs: a job's output, kept by the controller as the job's agents ship it.
#include <chrono>
#include <iostream>
#include <thread>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "common/job_state.hpp"

namespace sy::cli {
namespace {

// The lines of `text` labelled "RANK: ", without the label, when `rank` is set.
std::string lines_of_rank(const std::string& text, int rank) {
  const std::string label = std::to_string(rank) + ": ";
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size() - 1;
    if (text.compare(start, label.size(), label) == 0) {
      out.append(text, start + label.size(), nl + 1 - start - label.size());
    }
    start = nl + 1;
  }
  return out;
}

}  // namespace

int cmd_logs(const ClientConfig& config, const LogsOptions& o) {
  const std::string& id = o.id;
  const bool follow = o.follow;
  const std::optional<int>& rank = o.rank;
  ApiClient api(config, current_user());
  std::int64_t offset = 0;
  while (true) {
    auto slice = api.job_logs(id, offset);
    if (!slice) return failed(slice.error());
    const std::string text = slice->value("text", std::string());
    std::cout << (rank ? lines_of_rank(text, *rank) : text) << std::flush;
    offset = slice->value("next", offset);
    if (!text.empty()) continue;  // there may be more already
    const auto state = parse_state(slice->value("state", std::string()));
    if (!follow || !state || is_terminal(*state)) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace sy::cli
