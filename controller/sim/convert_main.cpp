// sy-trace-convert: another public GPU-cluster trace, in the simulator's trace format
// (controller/sim/trace_convert.hpp; docs/traces.md).
#include <fstream>
#include <iostream>
#include <string>

#include "common/file_text.hpp"
#include "controller/sim/convert_command_line.hpp"
#include "controller/sim/trace.hpp"
#include "controller/sim/trace_convert.hpp"

int main(int argc, char** argv) {
  using namespace sy;
  sim::ConvertCommandLine cl;
  if (const auto stop = command_line::parse(cl.app, argc, argv)) return *stop;
  const std::string &format = cl.format, &input = cl.input, &output = cl.output;

  const auto read = [](const std::string& path) -> Result<std::string, std::string> {
    auto text = read_file_text(path);
    if (!text) return fail(path + ": " + text.error());
    return text;
  };
  Result<sim::Converted, std::string> converted = fail(std::string());
  if (format == "pai2020") {
    const auto comma = input.find(',');
    if (comma == std::string::npos) {
      std::cerr << "sy-trace-convert: --input: pai2020 wants JOB_TABLE,TASK_TABLE\n";
      return 2;
    }
    const std::string jobs_file = input.substr(0, comma), tasks_file = input.substr(comma + 1);
    auto jobs = read(jobs_file);
    auto tasks = read(tasks_file);
    if (!jobs || !tasks) {
      std::cerr << "sy-trace-convert: " << (!jobs ? jobs.error() : tasks.error()) << "\n";
      return 1;
    }
    converted = sim::convert_pai2020(jobs.value(), jobs_file, tasks.value(), tasks_file);
  } else {
    auto text = read(input);
    if (!text) return std::cerr << "sy-trace-convert: " << text.error() << "\n", 1;
    converted = sim::convert_helios(text.value(), input);
  }
  if (!converted) return std::cerr << "sy-trace-convert: " << converted.error() << "\n", 1;
  std::ofstream out(output);
  out << sim::trace_csv(converted->jobs);
  if (!out.flush()) return std::cerr << "sy-trace-convert: cannot write " << output << "\n", 1;
  std::cout << converted->jobs.size() << " jobs written to " << output << ", " << converted->dropped
            << " left out (no GPUs, never ran, or not ended)\n";
  return 0;
}
