// `sy top`: a live full-screen view of the cluster: every node's GPUs as cells showing the job
// that holds each (coloured by job on a terminal; "+" for another user's), grouped by leaf switch,
// then the queue with each waiting job's reason. Redrawn every --interval seconds until
// interrupted; --once prints one frame (for scripts and logs).
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/table.hpp"
#include "common/units.hpp"

namespace sy::cli {
namespace {

struct Frame {
  std::string text;
  bool ok = true;
};

// "12" as a GPU cell of width 4, coloured by job when `colour`.
std::string cell(const std::string& id, bool colour) {
  if (id.empty()) return "   ·";  // a free GPU (the dot is one column, two bytes)
  std::string shown = id.size() > 4 ? id.substr(id.size() - 4) : id;
  shown.insert(0, 4 - shown.size(), ' ');
  if (!colour) return shown;
  std::size_t hash = 0;
  for (const char c : id)
    hash = hash * 31 + static_cast<unsigned char>(c);
  return "\033[" + std::to_string(31 + hash % 6) + "m" + shown + "\033[0m";
}

// One frame from the controller's cluster view (GET /v1/cluster, as the web dashboard draws it):
// another user's GPUs show as taken ("+") even though their jobs are not listed.
Frame render(ApiClient& api, bool colour) {
  auto view = api.cluster();
  if (!view) return {"sy top: " + view.error() + "\n", false};
  const auto& v = view.value();
  int nodes = 0, up = 0, running = 0, waiting = 0;
  for (const auto& leaf : v["leaves"]) {
    for (const auto& n : leaf["nodes"]) {
      ++nodes;
      up += n.value("state", "") == "UP";
    }
  }
  for (const auto& [state, n] : v["totals"]["jobs"].items()) {
    (state == "RUNNING" || state == "STAGING" ? running : waiting) += n.get<int>();
  }
  std::ostringstream out;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string at =
      format_utc_ms(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  out << "Switchyard  " << at.substr(0, 10) << " " << at.substr(11, 8) << "   nodes " << nodes
      << " (" << up << " up)   GPUs " << v["totals"].value("allocated", 0) << "/"
      << v["totals"].value("gpus", 0) << " allocated   jobs " << running << " running, " << waiting
      << " waiting\n\n";
  // Grouped by leaf switch, as the placer sees them.
  for (const auto& leaf : v["leaves"]) {
    out << "leaf " << (leaf["leaf"].is_string() ? leaf["leaf"].get<std::string>() : "-") << "\n";
    for (const auto& n : leaf["nodes"]) {
      std::string row = "  " + n.value("name", "");
      row.resize(std::max<std::size_t>(row.size() + 1, 14), ' ');
      std::string state = n.value("state", "");
      state.resize(9, ' ');
      row += state + "[";
      for (const auto& g : n["gpus"]) {
        const auto& job = g["job"];
        row += job.is_null()               ? cell("", colour)
               : job.value("other", false) ? std::string("   +")
                                           : cell(job.value("id", ""), colour);
      }
      out << row << " ]\n";
    }
  }
  out << "\n";
  Table table({"JOBID", "USER", "STATE", "GPUS", "NAME", "NODELIST(REASON)"});
  for (const auto& j : v["queue"]) {
    std::string where;
    for (const auto& n : j["nodes"])
      where += (where.empty() ? "" : ",") + n.get<std::string>();
    if (where.empty())
      where = j.value("reason", "").empty() ? "-" : "(" + j.value("reason", "") + ")";
    table.add_row({j.value("id", ""), j.value("user", ""), j.value("state", ""),
                   std::to_string(j.value("gpus", 0)), j.value("name", ""), where});
  }
  table.print(out);
  if (v.value("queue_more", 0) > 0) {
    out << "... and " << v.value("queue_more", 0) << " more (sy queue lists them all)\n";
  }
  return {out.str(), true};
}

}  // namespace

int cmd_top(const ClientConfig& config, const TopOptions& o) {
  const bool once = o.once;
  const double interval = o.interval_s;
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  ApiClient api(config, current_user());
  while (true) {
    const Frame f = render(api, tty);
    // Home and clear, then the frame: a terminal shows only the newest.
    if (tty && !once) std::cout << "\033[H\033[2J";
    std::cout << f.text << std::flush;
    if (once) return f.ok ? 0 : 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(interval * 1000)));
  }
}

}  // namespace sy::cli
