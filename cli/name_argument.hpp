#pragma once
// The arguments of every `sy X show NAME [--json]`-style command: one name, optionally --json.

#include <optional>
#include <string>
#include <vector>

#include "cli/exit_status.hpp"

namespace sy::cli {

struct NameArgument {
  std::string name;
  bool json = false;
};

// Reads args[from...]; on a usage error prints it for `command` and returns nothing (exit 2).
// `what` names the thing: "node", "dataset".
inline std::optional<NameArgument> read_name_argument(const std::vector<std::string>& args,
                                                      std::size_t from, const std::string& command,
                                                      const std::string& what) {
  NameArgument out;
  for (std::size_t i = from; i < args.size(); ++i) {
    if (args[i] == "--json") {
      out.json = true;
    } else if (out.name.empty()) {
      out.name = args[i];
    } else {
      usage(command, "give one " + what + " name");
      return std::nullopt;
    }
  }
  if (out.name.empty()) {
    usage(command, "which " + what + "? (sy " + command + " NAME)");
    return std::nullopt;
  }
  return out;
}

}  // namespace sy::cli
