// Slurm batch scripts as `sy submit` reads them (a user's file): the #SBATCH directives into a
// job document and through the job schema; the same bytes as a host list and as an output
// file pattern, which srun, scontrol and the controller parse.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/document.hpp"
#include "common/job_spec.hpp"
#include "common/slurm/hostlist.hpp"
#include "common/slurm/sbatch_script.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sy::slurm::SbatchContext ctx;
  ctx.file = "fuzz.sbatch";
  ctx.submit_dir = "/tmp";
  ctx.whole_node_gpus = 8;
  ctx.environment = {{"PATH", "/usr/bin"}};
  if (auto job = sy::slurm::job_from_sbatch(text, ctx)) {
    auto spec = sy::job_spec_from_document(sy::Document::from_value(job->job, ctx.file));
    (void)spec;
  }
  if (auto hosts = sy::slurm::expand_hostlist(text)) {
    (void)sy::slurm::compress_hostlist(hosts.value());
  }
  (void)sy::slurm::expand_output_pattern(
      text,
      {.job = 7, .name = "n", .array_job = 7, .array_index = 1, .user = "u", .first_node = "n1"});
  return 0;
}
