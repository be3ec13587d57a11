#pragma once
// How every sy sub-command reports a problem: a line on stderr and the exit status
// (2: the command line is wrong; 1: the request failed).

#include <iostream>
#include <string>

namespace sy::cli {

inline int usage(const std::string& command, const std::string& message) {
  std::cerr << "sy " << command << ": " << message << "\n(see sy " << command << " --help)\n";
  return 2;
}

inline int failed(const std::string& message) {
  std::cerr << "sy: " << message << "\n";
  return 1;
}

}  // namespace sy::cli
