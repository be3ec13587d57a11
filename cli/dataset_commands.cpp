// sy dataset add / list / show, sy stage.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/progress_text.hpp"
#include "cli/table.hpp"
#include "common/units.hpp"

namespace sy::cli {

int cmd_dataset_add(const ClientConfig& config, const DatasetAddOptions& o) {
  std::string source = o.source;
  const std::string& name = o.name;
  const bool json = o.json;
  // The controller reads the source itself, so a relative path means the caller's directory.
  if (!source.starts_with("/") && source.find("://") == std::string::npos) {
    char* cwd = ::getcwd(nullptr, 0);
    if (cwd != nullptr) {
      source = std::string(cwd) + "/" + source;
      std::free(cwd);
    }
  }
  ApiClient api(config, current_user());
  auto added = api.add_dataset(name, source);
  if (!added) return failed(added.error());
  if (json) {
    std::cout << added->dump(2) << "\n";
    return 0;
  }
  const auto& d = added.value();
  std::cout << "dataset " << d.value("name", "") << ": "
            << (d.value("new_version", false) ? "new version " : "unchanged, version ")
            << d.value("version", "") << " (" << d.value("files", 0) << " files, "
            << bytes_text(d.value("bytes", std::int64_t{0})) << ")\n";
  return 0;
}

int cmd_dataset_list(const ClientConfig& config, bool json) {
  ApiClient api(config, current_user());
  auto list = api.list_datasets();
  if (!list) return failed(list.error());
  if (json) {
    std::cout << list->dump(2) << "\n";
    return 0;
  }
  Table table({"NAME", "VERSION", "FILES", "SIZE", "SOURCE", "UPDATED"});
  for (const auto& d : list.value()) {
    table.add_row({d.value("name", ""), d.value("version", ""), std::to_string(d.value("files", 0)),
                   bytes_text(d.value("bytes", std::int64_t{0})), d.value("source", ""),
                   d.value("updated_time", "")});
  }
  table.print(std::cout);
  return 0;
}

int cmd_dataset_show(const ClientConfig& config, const NameOptions& o) {
  const NameOptions* arg = &o;
  ApiClient api(config, current_user());
  auto d = api.get_dataset(arg->name);
  if (!d) return failed(d.error());
  if (arg->json) {
    std::cout << d->dump(2) << "\n";
    return 0;
  }
  std::cout << "Dataset " << d->value("name", "") << "  Source=" << d->value("source", "")
            << "  AddedBy=" << d->value("added_by", "") << "\n"
            << "  Version=" << d->value("version", "") << "  Files=" << d->value("files", 0)
            << "  Size=" << bytes_text(d->value("bytes", std::int64_t{0}))
            << "  Updated=" << d->value("updated_time", "") << "\n\nVersions:\n";
  Table table({"VERSION", "FILES", "SIZE", "SCANNED"});
  for (const auto& v : d->at("versions")) {
    table.add_row({v.value("version", ""), std::to_string(v.value("files", 0)),
                   bytes_text(v.value("bytes", std::int64_t{0})), v.value("created_time", "")});
  }
  table.print(std::cout);
  std::cout << "\nNodes holding a copy:\n";
  if (d->value("nodes", nlohmann::json::array()).empty()) {
    std::cout << "  none (sy stage " << arg->name << " --node NODE stages one)\n";
    return 0;
  }
  Table holders({"NODE", "STATE", "VERSION", "SIZE", "CURRENT"});
  for (const auto& n : d->at("nodes")) {
    holders.add_row({n.value("node", ""), n.value("state", ""), n.value("version", ""),
                     bytes_text(n.value("bytes", std::int64_t{0})),
                     n.value("current", false) ? "yes" : "no (an older version)"});
  }
  holders.print(std::cout);
  return 0;
}

int cmd_stage(const ClientConfig& config, const StageOptions& o) {
  const std::string& name = o.dataset;
  const std::string& node = o.node;
  const bool json = o.json;
  ApiClient api(config, current_user());
  auto order = api.stage_dataset(name, node);
  if (!order) return failed(order.error());
  const std::string request = order->value("request", "");
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto last_line = std::chrono::steady_clock::now() - std::chrono::hours(1);
  nlohmann::json state = order.value();
  while (state.value("state", "") != "done" && state.value("state", "") != "failed") {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto next = api.stage_progress(name, request);
    if (!next) return failed(next.error());
    state = std::move(next).value();
    const auto now = std::chrono::steady_clock::now();
    if (json) continue;
    if (tty) {
      std::cerr << "\r" << progress_line(state) << "   " << std::flush;
    } else if (now - last_line >= std::chrono::seconds(2)) {
      std::cerr << progress_line(state) << "\n";
      last_line = now;
    }
  }
  if (tty && !json) std::cerr << "\n";
  if (json) std::cout << state.dump(2) << "\n";
  if (state.value("state", "") == "failed") {
    return failed("staging " + name + " on " + node + " failed (" +
                  state["error"].value("kind", "?") + "): " + state["error"].value("message", "?"));
  }
  if (!json) {
    const auto copied = state.value("bytes_copied", std::int64_t{0});
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", state.value("seconds", 0.0));
    std::cout << name << "@" << state.value("version", "") << " is on " << node << ": "
              << (copied == 0 ? std::string("already there and intact")
                              : bytes_text(copied) + " copied and verified in " + seconds + " s")
              << "\n";
  }
  return 0;
}

}  // namespace sy::cli
