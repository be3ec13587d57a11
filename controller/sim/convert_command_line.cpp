#include "controller/sim/convert_command_line.hpp"

namespace sy::sim {

ConvertCommandLine::ConvertCommandLine() {
  command_line::set_up_program(
      app,
      "converts a public GPU-cluster trace to the format sy-sim --trace reads\n"
      "  pai2020: Alibaba PAI 2020 (cluster-trace-gpu-v2020), INPUT is\n"
      "           pai_job_table.csv,pai_task_table.csv\n"
      "  helios:  SenseTime Helios (SC'21), INPUT is a cluster's cluster_log.csv\n"
      "What is kept and what is left out: docs/traces.md.");
  app.add_option("--from", format, "the source's layout: pai2020 or helios")
      ->required()
      ->check(CLI::IsMember({"pai2020", "helios"}))
      ->type_name("FORMAT");
  app.add_option("--input", input, "the source file(s), comma-separated for pai2020")
      ->required()
      ->type_name("FILE[,FILE]");
  app.add_option("--output", output, "where to write the converted trace")
      ->required()
      ->type_name("FILE.csv");
}

}  // namespace sy::sim
