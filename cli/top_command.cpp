// `sy top`: a live full-screen view of the cluster: every node's GPUs as cells showing the job
// that holds each (coloured by job on a terminal), grouped by leaf switch, then the queue with
// each waiting job's reason. Redrawn every --interval seconds until interrupted; --once prints
// one frame (for scripts and logs).
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

Frame render(ApiClient& api, bool colour) {
  auto nodes = api.list_nodes();
  auto jobs = api.list(ListQuery{});
  if (!nodes || !jobs) return {"sy top: " + (!nodes ? nodes.error() : jobs.error()) + "\n", false};
  // (node, GPU) -> the job holding it
  std::map<std::pair<std::string, int>, std::string> holder;
  int running = 0, pending = 0;
  for (const auto& j : jobs.value()) {
    running += j.state == JobState::running || j.state == JobState::staging;
    pending += j.state == JobState::pending || j.state == JobState::held;
    if (!j.placement.is_object() || !j.placement.contains("nodes")) continue;
    for (const auto& n : j.placement["nodes"]) {
      for (const auto& g : n.value("gpus", nlohmann::json::array()))
        holder[{n.value("node", ""), g.get<int>()}] = j.display_id();
    }
  }
  // Grouped by leaf switch, as the placer sees them.
  std::map<std::string, std::vector<nlohmann::json>> by_leaf;
  int gpus = 0, used = 0, up = 0;
  for (const auto& n : nodes.value()) {
    by_leaf[n["leaf"].is_string() ? n["leaf"].get<std::string>() : "-"].push_back(n);
    gpus += n.value("gpus", 0);
    used += n.value("gpus", 0) - n.value("gpus_free", 0);
    up += n.value("state", "") == "UP";
  }
  std::ostringstream out;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string at =
      format_utc_ms(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  out << "Switchyard  " << at.substr(0, 10) << " " << at.substr(11, 8) << "   nodes "
      << nodes->size() << " (" << up << " up)   GPUs " << used << "/" << gpus
      << " allocated   jobs " << running << " running, " << pending << " waiting\n\n";
  for (const auto& [leaf, members] : by_leaf) {
    out << "leaf " << leaf << "\n";
    for (const auto& n : members) {
      const std::string name = n.value("name", "");
      std::string row = "  " + name;
      row.resize(std::max<std::size_t>(row.size() + 1, 14), ' ');
      std::string state = n.value("state", "");
      state.resize(9, ' ');
      row += state + "[";
      for (int g = 0; g < n.value("gpus", 0); ++g) {
        const auto it = holder.find({name, g});
        row += cell(it == holder.end() ? "" : it->second, colour);
      }
      out << row << " ]\n";
    }
  }
  out << "\n";
  Table table({"JOBID", "USER", "STATE", "GPUS", "NAME", "NODELIST(REASON)"});
  for (const auto& j : jobs.value()) {
    std::string where = j.reason.empty() ? "-" : "(" + j.reason + ")";
    if (j.placement.is_object() && j.placement.contains("nodes")) {
      where.clear();
      for (const auto& n : j.placement["nodes"])
        where += (where.empty() ? "" : ",") + n.value("node", std::string("?"));
    }
    table.add_row({j.display_id(), j.user, std::string(state_name(j.state)),
                   std::to_string(j.spec.total_gpus()), j.spec.name, where});
  }
  table.print(out);
  return {out.str(), true};
}

}  // namespace

int cmd_top(const Invocation& inv) {
  bool once = false;
  double interval = 2;
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    if (a == "--once") {
      once = true;
    } else if ((a == "--interval" || a == "-n") && i + 1 < inv.args.size()) {
      interval = std::atof(inv.args[++i].c_str());
      if (interval < 0.2) return usage("top", "--interval must be at least 0.2 seconds");
    } else {
      return usage("top", "unknown argument '" + a + "' (sy top [--interval S] [--once])");
    }
  }
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  ApiClient api(inv.config, current_user());
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
