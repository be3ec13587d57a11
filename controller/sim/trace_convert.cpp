#include "controller/sim/trace_convert.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>

#include "common/parse_number.hpp"

namespace sy::sim {
namespace {

// Each line's cells, by line number from 1 (a Windows line end tolerated, blank lines skipped).
std::vector<std::pair<int, std::vector<std::string>>> rows_of(const std::string& text) {
  std::vector<std::pair<int, std::vector<std::string>>> out;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line != "\r") out.emplace_back(number, trace_cells(line));
  }
  return out;
}

std::string at(const std::string& file, int line, const std::string& field) {
  return file + ":" + std::to_string(line) + ": " + field + ": ";
}

// A time in seconds or a count as the sources write them ("4036", "4036.0"); nullopt when the
// source left it out (empty, NaN: a job still running when the trace was cut).
Result<std::optional<double>, std::string> number(const std::string& cell,
                                                  const std::string& where) {
  if (cell.empty() || cell == "NaN" || cell == "nan" || cell == "None") {
    return std::optional<double>{};
  }
  char* end = nullptr;
  const double v = std::strtod(cell.c_str(), &end);
  if (end != cell.c_str() + cell.size() || !std::isfinite(v) || v < 0) {
    return fail(where + "'" + cell + "' is not a number >= 0");
  }
  return std::optional<double>{v};
}

// Sorted by (submit, user, GPUs, run time), numbered in that order, submits counted from the
// first: how ../shared/traces/README.md's converter made philly.csv.
Converted finish(std::vector<TraceJob> jobs, const std::string& prefix, std::int64_t dropped) {
  std::sort(jobs.begin(), jobs.end(), [](const TraceJob& a, const TraceJob& b) {
    return std::tie(a.submit_s, a.user, a.gpus, a.duration_s) <
           std::tie(b.submit_s, b.user, b.gpus, b.duration_s);
  });
  const std::int64_t first = jobs.empty() ? 0 : jobs.front().submit_s;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    char id[48];
    std::snprintf(id, sizeof id, "%s-%06zu", prefix.c_str(), i + 1);
    jobs[i].id = id;
    jobs[i].submit_s -= first;
  }
  return {std::move(jobs), dropped};
}

// "2020-04-01 00:00:07" (Helios), as seconds since the epoch, UTC.
std::optional<std::int64_t> helios_time(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail) !=
      6) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
  tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

Result<Converted, std::string> convert_pai2020(const std::string& jobs_text,
                                               const std::string& jobs_file,
                                               const std::string& tasks_text,
                                               const std::string& tasks_file) {
  // What the tasks of each job add up to: GPUs (plan_gpu is per instance, 100 = one GPU) and
  // the span from the first task's start to the last one's end.
  struct Tasks {
    double gpu_percent = 0;
    std::optional<double> start, end;
    bool unfinished = false;
  };
  std::map<std::string, Tasks> tasks;
  for (const auto& [line, cells] : rows_of(tasks_text)) {
    if (line == 1 && !cells.empty() && cells[0] == "job_name") continue;  // a header, if added
    if (cells.size() != 10) {
      return fail(tasks_file + ":" + std::to_string(line) + ": " + std::to_string(cells.size()) +
                  " fields; pai_task_table has 10 (job_name,task_name,inst_num,status,"
                  "start_time,end_time,plan_cpu,plan_mem,plan_gpu,gpu_type)");
    }
    auto instances = number(cells[2], at(tasks_file, line, "inst_num"));
    auto start = number(cells[4], at(tasks_file, line, "start_time"));
    auto end = number(cells[5], at(tasks_file, line, "end_time"));
    auto gpu = number(cells[8], at(tasks_file, line, "plan_gpu"));
    if (!instances) return fail(instances.error());
    if (!start) return fail(start.error());
    if (!end) return fail(end.error());
    if (!gpu) return fail(gpu.error());
    Tasks& t = tasks[cells[0]];
    t.gpu_percent += instances->value_or(0) * gpu->value_or(0);
    if (!*start || !*end) {
      t.unfinished = true;
      continue;
    }
    t.start = t.start ? std::min(*t.start, **start) : **start;
    t.end = t.end ? std::max(*t.end, **end) : **end;
  }
  std::vector<TraceJob> jobs;
  std::int64_t dropped = 0;
  for (const auto& [line, cells] : rows_of(jobs_text)) {
    if (line == 1 && !cells.empty() && cells[0] == "job_name") continue;
    if (cells.size() != 6) {
      return fail(jobs_file + ":" + std::to_string(line) + ": " + std::to_string(cells.size()) +
                  " fields; pai_job_table has 6 (job_name,inst_id,user,status,start_time,"
                  "end_time)");
    }
    auto submit = number(cells[4], at(jobs_file, line, "start_time"));
    if (!submit) return fail(submit.error());
    const auto t = tasks.find(cells[0]);
    // Ended (Terminated or Failed), with GPUs, and every task's run known.
    const bool ended = cells[3] == "Terminated" || cells[3] == "Failed";
    if (!ended || !*submit || t == tasks.end() || t->second.unfinished || !t->second.start ||
        t->second.gpu_percent <= 0) {
      ++dropped;
      continue;
    }
    TraceJob j;
    j.submit_s = static_cast<std::int64_t>(**submit);
    // Shared GPUs (plan_gpu below 100) are not modelled: a job holds whole GPUs.
    j.gpus = static_cast<int>(std::ceil(t->second.gpu_percent / 100 - 1e-9));
    j.duration_s = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::llround(*t->second.end - *t->second.start)));
    j.user = cells[2];
    jobs.push_back(std::move(j));
  }
  return finish(std::move(jobs), "pai", dropped);
}

Result<Converted, std::string> convert_helios(const std::string& text, const std::string& file) {
  const auto rows = rows_of(text);
  if (rows.empty()) return fail(file + ":1: empty (want cluster_log.csv's header line)");
  std::map<std::string, std::size_t> column;
  for (std::size_t i = 0; i < rows.front().second.size(); ++i)
    column[rows.front().second[i]] = i;
  for (const char* required : {"gpu_num", "submit_time", "duration", "vc"}) {
    if (!column.contains(required)) {
      return fail(file + ":" + std::to_string(rows.front().first) + ": no '" + required +
                  "' column in the header");
    }
  }
  std::vector<TraceJob> jobs;
  std::int64_t dropped = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& [line, cells] = rows[r];
    if (cells.size() != rows.front().second.size()) {
      return fail(file + ":" + std::to_string(line) + ": " + std::to_string(cells.size()) +
                  " fields, the header has " + std::to_string(rows.front().second.size()));
    }
    int gpus = 0;
    if (!parse_whole_number(cells[column["gpu_num"]], gpus) || gpus < 0) {
      return fail(at(file, line, "gpu_num") + "'" + cells[column["gpu_num"]] +
                  "' is not a GPU count");
    }
    auto duration = number(cells[column["duration"]], at(file, line, "duration"));
    if (!duration) return fail(duration.error());
    const auto submit = helios_time(cells[column["submit_time"]]);
    if (!submit) {
      return fail(at(file, line, "submit_time") + "'" + cells[column["submit_time"]] +
                  "' is not a time like 2020-04-01 00:00:07");
    }
    // CPU-only jobs, and jobs that never ran (cancelled while queued: no run time).
    if (gpus == 0 || !*duration || **duration < 1) {
      ++dropped;
      continue;
    }
    TraceJob j;
    j.submit_s = *submit;
    j.gpus = gpus;
    j.duration_s = static_cast<std::int64_t>(std::llround(**duration));
    // The tenant, as for Philly: the virtual cluster.
    j.user = "vc-" + cells[column["vc"]];
    jobs.push_back(std::move(j));
  }
  return finish(std::move(jobs), "helios", dropped);
}

}  // namespace sy::sim
