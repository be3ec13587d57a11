#include "agent/labelled_lines.hpp"

#include <regex>

namespace sy::agent {

std::string LabelledLines::line(std::string_view text) const {
  if (mpi_tags_ && text.size() > 3 && text[0] == '[') {
    // "[JOB,RANK]<stdout>:" or "<stderr>:"
    static const std::regex tag(R"(^\[\d+,(\d+)\]<std(?:out|err)>: ?)");
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_search(text.begin(), text.end(), m, tag)) {
      return m[1].str() + ": " + std::string(text.substr(static_cast<std::size_t>(m.length(0)))) +
             "\n";
    }
  }
  return label_ + ": " + std::string(text) + "\n";
}

std::string LabelledLines::feed(std::string_view bytes) {
  std::string out;
  partial_.append(bytes);
  std::size_t start = 0;
  for (std::size_t nl = partial_.find('\n'); nl != std::string::npos;
       nl = partial_.find('\n', start)) {
    out += line(std::string_view(partial_).substr(start, nl - start));
    start = nl + 1;
  }
  partial_.erase(0, start);
  // A line longer than this is cut: a process printing without newlines must not grow memory.
  if (partial_.size() > 64 * 1024) {
    out += line(partial_);
    partial_.clear();
  }
  return out;
}

std::string LabelledLines::finish() {
  if (partial_.empty()) return {};
  std::string out = line(partial_);
  partial_.clear();
  return out;
}

std::optional<MpiFailure> mpirun_first_failure(std::string_view output) {
  static const std::regex report(
      R"(first process to do so was:[\s\S]*?Process name: \[\[\d+,\d+\],(\d+)\][\s\S]*?Exit code: +(-?\d+))");
  std::match_results<std::string_view::const_iterator> m;
  if (std::regex_search(output.begin(), output.end(), m, report)) {
    return MpiFailure{.rank = std::stoi(m[1].str()), .exit_code = std::stoi(m[2].str())};
  }
  static const std::regex killed(
      R"(process rank (\d+) with PID \d+ on node \S+ exited on signal (\d+))");
  if (std::regex_search(output.begin(), output.end(), m, killed)) {
    return MpiFailure{.rank = std::stoi(m[1].str()), .exit_code = 128 + std::stoi(m[2].str())};
  }
  return std::nullopt;
}

}  // namespace sy::agent
