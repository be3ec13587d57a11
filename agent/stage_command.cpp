#include "agent/stage_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "agent/staging/stage_record.hpp"
#include "agent/staging/stager.hpp"
#include "common/dataset/manifest.hpp"
#include "common/file_text.hpp"
#include "plugins/staging/staging_backend.hpp"

namespace sy::agent {
namespace {

constexpr const char* kUsage =
    R"(usage: sy-agent stage --from SRC --to DST [--parallel N] [--full-check]
                      [--manifest FILE | --version V] [--write-manifest FILE]
       sy-agent stage --from SRC --dataset NAME --cache DIR [--parallel N]

Copies the directory SRC to DST the way the agent stages datasets: many files in flight, every
file hashed (XXH3) as it is written, DST published only when complete (until then the copy is in
.DST.partial beside it), resumable after a kill, and a second run on an unchanged SRC and intact
DST costs one stat per file. DST must not exist, be empty, or be a copy made by this command.

With --dataset and --cache, SRC is hashed first (as `sy dataset add` does) and the copy goes to
DIR/NAME@VERSION, where an agent started with --tier0 DIR finds it and reports it: a node's cache
can be seeded by hand.

  --parallel N           files (or 8 MiB pieces of large files) in flight (default 16)
  --full-check           re-hash every file of an existing DST instead of trusting unchanged stats
  --manifest FILE        stage this manifest (JSON, as GET /v1/datasets/NAME/manifest answers)
                         instead of listing SRC: what the agent does with a stage order
  --write-manifest FILE  write the manifest of what was staged, digests included
  --version V            check an existing DST of version V against its own record (what an
                         agent does with a check order: no manifest, no listing of SRC)
)";

int usage_error(const std::string& m) {
  std::cerr << "sy-agent stage: " << m << "\n(see sy-agent stage --help)\n";
  return 2;
}

}  // namespace

int run_stage_command(int argc, char** argv) {
  std::string from, to, dataset_name, cache_dir, manifest_in, manifest_out, version;
  staging::StageRequest request;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--full-check") {
      request.full_check = true;
      continue;
    }
    if (i + 1 >= argc) return usage_error(arg + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--from") {
      from = value;
    } else if (arg == "--to") {
      to = value;
    } else if (arg == "--dataset") {
      dataset_name = value;
    } else if (arg == "--cache") {
      cache_dir = value;
    } else if (arg == "--manifest") {
      manifest_in = value;
    } else if (arg == "--write-manifest") {
      manifest_out = value;
    } else if (arg == "--version") {
      version = value;
    } else if (arg == "--parallel") {
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || n < 1 || n > 256) return usage_error("--parallel must be 1-256");
      request.parallel = static_cast<int>(n);
    } else {
      return usage_error("unknown argument '" + arg + "'");
    }
  }
  if (dataset_name.empty() != cache_dir.empty()) {
    return usage_error("--dataset and --cache go together");
  }
  if (!dataset_name.empty() && !dataset::valid_dataset_name(dataset_name)) {
    return usage_error("--dataset: '" + dataset_name + "' is not a dataset name");
  }
  if (from.empty() || to.empty() == cache_dir.empty()) {
    return usage_error("--from and one of --to or --cache are required");
  }
  char* real_from = ::realpath(from.c_str(), nullptr);
  if (real_from == nullptr) return std::cerr << "sy-agent stage: " << from << ": not found\n", 1;
  from = real_from;
  std::free(real_from);
  auto backend = staging::make_staging_backend(from);
  if (!backend) return std::cerr << "sy-agent stage: " << backend.error() << "\n", 1;
  const bool into_cache = !cache_dir.empty();
  if (!manifest_in.empty() && into_cache) return usage_error("--manifest goes with --to");
  if (!version.empty() && (into_cache || !manifest_in.empty())) {
    return usage_error("--version goes with --to, without --manifest");
  }
  Result<dataset::Manifest, std::string> manifest = fail(std::string());
  if (!version.empty()) {
    const auto dest = std::filesystem::absolute(to).lexically_normal();
    request.record = staging::record_of_version(dest, version);
    if (!request.record) {
      return std::cerr << "sy-agent stage: " << to << " holds no verified copy of version "
                       << version << "\n",
             1;
    }
    manifest = request.record->manifest;
  } else if (!manifest_in.empty()) {
    const auto text = read_file_text(manifest_in);
    if (!text)
      return std::cerr << "sy-agent stage: " << manifest_in << ": " << text.error() << "\n", 1;
    const auto j = nlohmann::json::parse(text.value(), nullptr, false);
    manifest = j.is_discarded() ? Result<dataset::Manifest, std::string>(fail("not JSON"))
                                : dataset::manifest_from_json(j);
    if (!manifest) manifest = fail(manifest_in + ": " + manifest.error());
  } else {
    manifest =
        backend.value()->scan(into_cache ? dataset_name : "stage", into_cache, request.parallel);
  }
  if (!manifest) return std::cerr << "sy-agent stage: " << manifest.error() << "\n", 1;
  request.manifest = std::move(manifest).value();
  request.digests_known = into_cache || !manifest_in.empty() || !version.empty();
  if (into_cache) to = cache_dir + "/" + dataset_name + "@" + request.manifest.version();
  request.dest = std::filesystem::absolute(to).lexically_normal();
  if (!request.dest.has_filename()) request.dest = request.dest.parent_path();

  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto progress = [&](const staging::StageProgress& p) {
    if (!tty) return;
    const double mb = static_cast<double>(p.bytes_done) / 1e6;
    std::fprintf(stderr, "\r%lld/%lld files  %.0f/%.0f MB  %.0f MB/s   ",
                 static_cast<long long>(p.files_done), static_cast<long long>(p.files_total), mb,
                 static_cast<double>(p.bytes_total) / 1e6, p.seconds > 0 ? mb / p.seconds : 0.0);
  };
  const auto start = std::chrono::steady_clock::now();
  auto outcome = staging::stage_dataset(request, *backend.value(), progress, nullptr);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (tty) std::fprintf(stderr, "\n");
  if (!outcome) {
    std::cerr << "sy-agent stage: " << staging::kind_name(outcome.error().kind) << ": "
              << outcome.error().message << "\n";
    return 1;
  }
  if (!manifest_out.empty()) {
    std::ofstream out(manifest_out, std::ios::trunc);
    out << dataset::to_json(outcome->manifest).dump() << "\n";
    if (!out.flush())
      return std::cerr << "sy-agent stage: cannot write " << manifest_out << "\n", 1;
  }
  std::printf("%s: %s, version %s; %lld files copied (%.1f MB), %lld kept, %lld repaired, %.2f s\n",
              request.dest.c_str(), outcome->unchanged ? "unchanged" : "staged",
              outcome->manifest.version().c_str(), static_cast<long long>(outcome->files_copied),
              static_cast<double>(outcome->bytes_copied) / 1e6,
              static_cast<long long>(outcome->files_kept),
              static_cast<long long>(outcome->files_repaired), seconds);
  return 0;
}

}  // namespace sy::agent
