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

int usage_error(const std::string& m) {
  std::cerr << "sy-agent stage: " << m << "\n(see sy-agent stage --help)\n";
  return 2;
}

}  // namespace

int run_stage_command(const StageCommandOptions& o) {
  std::string from = o.from, to = o.to;
  const std::string &dataset_name = o.dataset_name, &cache_dir = o.cache_dir,
                    &manifest_in = o.manifest_in, &manifest_out = o.manifest_out,
                    &version = o.version;
  staging::StageRequest request;
  request.full_check = o.full_check;
  request.parallel = o.parallel;
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
