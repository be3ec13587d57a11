#pragma once
// Slurm's host lists: "n[1-3,7],gpu[01-02]" <-> {n1, n2, n3, n7, gpu01, gpu02}. Jobs read them
// from SLURM_JOB_NODELIST and pass them to `scontrol show hostnames`, so both ways must agree
// with Slurm's, zero padding included.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sy::slurm {

inline constexpr std::size_t kMaxHostlistHosts = 65536;

// Names in the order written (repeats kept). The error says which part is malformed.
Result<std::vector<std::string>, std::string> expand_hostlist(std::string_view list);
// The shortest form Slurm would print: runs of names differing only in a trailing number of the
// same width are bracketed, the names' order kept.
std::string compress_hostlist(const std::vector<std::string>& hosts);

}  // namespace sy::slurm
