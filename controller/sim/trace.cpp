#include "controller/sim/trace.hpp"

#include "common/file_text.hpp"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "common/comma_list.hpp"
#include "common/parse_number.hpp"

namespace sy::sim {

std::vector<std::string> trace_cells(const std::string& line) {
  std::vector<std::string> cells = split_commas(line);
  if (!cells.empty() && !cells.back().empty() && cells.back().back() == '\r')
    cells.back().pop_back();
  return cells;
}

std::string trace_csv(const std::vector<TraceJob>& trace) {
  std::string out = "job_id,submit_s,gpus,duration_s,user,model,dataset,dataset_gb\n";
  char gb[32];
  for (const auto& j : trace) {
    std::snprintf(gb, sizeof gb, "%.1f", j.dataset_gb);
    out += j.id + "," + std::to_string(j.submit_s) + "," + std::to_string(j.gpus) + "," +
           std::to_string(j.duration_s) + "," + j.user + "," + j.model + "," + j.dataset + "," +
           (j.dataset.empty() ? "" : gb) + "\n";
  }
  return out;
}

Result<std::vector<TraceJob>, std::string> parse_trace(const std::string& text,
                                                       const std::string& file) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return fail(file + ":1: empty trace (want a header line)");
  std::map<std::string, std::size_t> column;
  const auto header = trace_cells(line);
  for (std::size_t i = 0; i < header.size(); ++i)
    column[header[i]] = i;
  for (const char* required : {"job_id", "submit_s", "gpus", "duration_s"}) {
    if (!column.contains(required)) {
      return fail(file + ":1: no '" + required + "' column in the header");
    }
  }
  auto optional_column = [&](const char* name) {
    auto it = column.find(name);
    return it == column.end() ? std::string::npos : it->second;
  };
  const std::size_t user = optional_column("user"), model = optional_column("model"),
                    dataset = optional_column("dataset"), size = optional_column("dataset_gb");
  std::vector<TraceJob> jobs;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    const auto cells = trace_cells(line);
    if (cells.size() != header.size()) {
      return fail(file + ":" + std::to_string(number) + ": " + std::to_string(cells.size()) +
                  " fields, the header has " + std::to_string(header.size()));
    }
    auto where = [&](const char* field) {
      return file + ":" + std::to_string(number) + ": " + field + ": ";
    };
    TraceJob j;
    j.id = cells[column["job_id"]];
    if (!parse_whole_number(cells[column["submit_s"]], j.submit_s) || j.submit_s < 0) {
      return fail(where("submit_s") + "'" + cells[column["submit_s"]] +
                  "' is not a whole number of seconds >= 0");
    }
    if (!parse_whole_number(cells[column["gpus"]], j.gpus) || j.gpus < 1) {
      return fail(where("gpus") + "'" + cells[column["gpus"]] + "' is not a GPU count >= 1");
    }
    if (!parse_whole_number(cells[column["duration_s"]], j.duration_s) || j.duration_s < 1) {
      return fail(where("duration_s") + "'" + cells[column["duration_s"]] +
                  "' is not a whole number of seconds >= 1");
    }
    if (user != std::string::npos) j.user = cells[user];
    if (model != std::string::npos) j.model = cells[model];
    if (dataset != std::string::npos) j.dataset = cells[dataset];
    if (size != std::string::npos && !cells[size].empty()) {
      char* end = nullptr;
      j.dataset_gb = std::strtod(cells[size].c_str(), &end);
      if (end != cells[size].c_str() + cells[size].size() || j.dataset_gb < 0) {
        return fail(where("dataset_gb") + "'" + cells[size] + "' is not a size in GB");
      }
    }
    jobs.push_back(std::move(j));
  }
  return jobs;
}

Result<std::vector<TraceJob>, std::string> load_trace(const std::string& path) {
  auto text = read_file_text(path);
  if (!text) return fail(path + ": cannot read the trace: " + text.error());
  return parse_trace(text.value(), path);
}

}  // namespace sy::sim
