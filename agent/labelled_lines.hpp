#pragma once
// LabelledLines: a process's output as lines labelled with who wrote them, "3: loss 0.25", the
// way `srun --label` prints them, so one log holds every rank of a job and `sy logs --rank 3`
// can pick one out. mpirun's own --tag-output lines ("[1,3]<stdout>:text") get the rank in their
// tag as label; its untagged lines keep the process's label ("mpirun").

#include <optional>
#include <string>
#include <string_view>

namespace sy::agent {

class LabelledLines {
 public:
  LabelledLines(std::string label, bool mpi_tags) : label_(std::move(label)), mpi_tags_(mpi_tags) {}
  // The complete lines among what was read so far, labelled; a partial line waits for its end
  // (or finish()).
  std::string feed(std::string_view bytes);
  std::string finish();  // the last line when it had no newline

 private:
  std::string line(std::string_view text) const;
  std::string label_;
  bool mpi_tags_;
  std::string partial_;
};

// The rank and exit code of the first failing process, from mpirun's report of it in its
// output ("The first process to do so was: Process name: [[24113,1],2] Exit code: 2").
struct MpiFailure {
  int rank = 0;
  int exit_code = 0;
};
std::optional<MpiFailure> mpirun_first_failure(std::string_view output);

}  // namespace sy::agent
