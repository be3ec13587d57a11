// sy logs: a job's output, kept by the controller as the job's agents ship it.
#include <charconv>
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

int cmd_logs(const Invocation& inv) {
  std::string id;
  bool follow = false;
  std::optional<int> rank;
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    if (a == "-f" || a == "--follow") {
      follow = true;
    } else if (a == "--rank") {
      int r = -1;
      if (i + 1 >= inv.args.size()) return usage("logs", "--rank needs a rank (0, 1, ...)");
      const std::string& v = inv.args[++i];
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), r);
      if (ec != std::errc() || p != v.data() + v.size() || r < 0) {
        return usage("logs", "--rank: '" + v + "' is not a rank (0, 1, ...)");
      }
      rank = r;
    } else if (!a.empty() && a[0] == '-') {
      return usage("logs", "unknown option '" + a + "'");
    } else if (!id.empty()) {
      return usage("logs", "give one job");
    } else {
      if (!parse_job_ref(a)) return usage("logs", "'" + a + "' is not a job id (12, or 12_3)");
      id = a;
    }
  }
  if (id.empty()) return usage("logs", "which job? (sy logs ID [-f] [--rank R])");
  ApiClient api(inv.config, current_user());
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
