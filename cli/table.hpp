#pragma once
// Plain-text tables sized to their content, like squeue's, for people to read at a glance.

#include <ostream>
#include <string>
#include <vector>

namespace sy::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // The last column is not padded, so long reasons do not push trailing spaces.
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace sy::cli
