#pragma once
// A dataset's name and the variable that tells a job where its copy is. Header-only: the Slurm
// SPANK plugin (plugins/slurm), loaded into Slurm's own processes, uses it without sy_common.

#include <string>
#include <string_view>

namespace sy::dataset {

// Letters, digits, '.', '_', '-'; a letter or digit first; at most 64.
inline bool valid_dataset_name(std::string_view name) {
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (name.empty() || name.size() > 64 || !alnum(name.front())) return false;
  for (const char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

// SY_DATASET_<NAME>: the name upper-cased, anything but letters and digits as '_'.
inline std::string dataset_variable(std::string_view name) {
  std::string v = "SY_DATASET_";
  for (const char c : name) {
    if (c >= 'a' && c <= 'z') {
      v += static_cast<char>(c - 'a' + 'A');
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      v += c;
    } else {
      v += '_';
    }
  }
  return v;
}

}  // namespace sy::dataset
