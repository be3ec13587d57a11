#pragma once
// Naming what a configuration reload changed: each program lists its settings with whether they
// differ, and says which ones wait for a restart.

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace sy {

inline std::vector<std::string> changed_settings(
    std::initializer_list<std::pair<const char*, bool>> settings) {
  std::vector<std::string> changed;
  for (const auto& [name, differs] : settings) {
    if (differs) changed.emplace_back(name);
  }
  return changed;
}

}  // namespace sy
