#include "agent/staging/stager.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include "agent/staging/beneath.hpp"
#include "agent/staging/stage_record.hpp"
#include "common/dataset/chunk_digest.hpp"

namespace sy::staging {
namespace {

namespace fs = std::filesystem;
using Kind = StageError::Kind;

StageError error(Kind kind, std::string message) {
  return {.kind = kind, .message = std::move(message)};
}

Kind io_kind() {
  return errno == ENOSPC || errno == EDQUOT ? Kind::DiskFull : Kind::Io;
}

// Whether an existing verified file can stand for the manifest's entry.
bool same_file(const dataset::FileEntry& have, const dataset::FileEntry& want, bool digests_known) {
  if (have.path != want.path || have.size != want.size) return false;
  return digests_known ? have.digest == want.digest : have.mtime_ns == want.mtime_ns;
}

// The common case of a re-stage, answered fast: the copy's record names exactly the wanted files
// and every staged file still has the inode and ctime it was verified with. The stats run on
// several threads (a cold stat walk waits on the disk for each inode; in parallel the waits
// overlap). A path through a planted symlink can only match the very inode that was verified;
// anything that does not match goes to the careful path, which opens beneath the copy.
bool intact_copy(int dest_fd, const StageRecord& record, const dataset::Manifest& want,
                 bool digests_known, int parallel) {
  const auto& files = record.manifest.files;
  if (files.size() != want.files.size() || record.stats.size() != files.size()) return false;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!same_file(files[i], want.files[i], digests_known)) return false;
  }
  std::atomic<bool> intact{true};
  std::atomic<std::size_t> next{0};
  const auto check = [&] {
    constexpr std::size_t kBatch = 256;
    while (intact.load(std::memory_order_relaxed)) {
      const std::size_t from = next.fetch_add(kBatch);
      if (from >= files.size()) return;
      for (std::size_t i = from; i < std::min(from + kBatch, files.size()); ++i) {
        struct stat st {};
        if (::fstatat(dest_fd, files[i].path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !stat_matches(st, files[i], record.stats[i])) {
          intact = false;
          return;
        }
      }
    }
  };
  const int threads =
      std::clamp<int>(std::min<int>(parallel, static_cast<int>(files.size() / 1024) + 1), 1, 32);
  {
    std::vector<std::jthread> workers;
    for (int t = 1; t < threads; ++t)
      workers.emplace_back(check);
    check();
  }
  return intact;
}

constexpr std::size_t kDirectAlign = 4096;  // O_DIRECT buffers, offsets and lengths

// One file being copied: its chunks may be copied by several workers at once.
struct FileJob {
  std::size_t index = 0;  // in the manifest
  std::once_flag opened;
  Fd out;
  Fd direct;  // the same file opened O_DIRECT, for aligned chunks; invalid: not used
  std::unique_ptr<SourceFile> in;
  std::string open_error;
  Kind open_kind = Kind::Io;
  std::vector<std::uint64_t> chunk_digests;
  std::atomic<std::int64_t> chunks_left{0};
};

struct Task {
  FileJob* job;
  std::int64_t chunk;
};

class Copier {
 public:
  Copier(const StageRequest& request, const StagingBackend& source, int partial_fd,
         const fs::path& journal, dataset::Manifest& manifest, std::vector<StagedStat>& stats)
      : request_(request),
        source_(source),
        partial_fd_(partial_fd),
        journal_(journal),
        manifest_(manifest),
        stats_(stats) {}

  // Copies the files at `todo` (manifest indexes); fills in their digests and stats.
  Result<void, StageError> run(const std::vector<std::size_t>& todo, std::int64_t bytes_before,
                               std::int64_t files_before, const ProgressFn& on_progress,
                               const std::atomic<bool>* cancel) {
    jobs_.reserve(todo.size());
    for (const std::size_t i : todo) {
      auto job = std::make_unique<FileJob>();
      job->index = i;
      const std::int64_t chunks = dataset::chunk_count(manifest_.files[i].size);
      job->chunk_digests.resize(static_cast<std::size_t>(chunks));
      job->chunks_left = std::max<std::int64_t>(1, chunks);
      for (std::int64_t c = 0; c < std::max<std::int64_t>(1, chunks); ++c)
        tasks_.push_back({job.get(), c});
      jobs_.push_back(std::move(job));
    }
    bytes_done_ = bytes_before;
    files_done_ = files_before;
    const auto start = std::chrono::steady_clock::now();
    paced_from_ = start;
    const auto report = [&] {
      if (!on_progress) return;
      on_progress(
          {.bytes_done = bytes_done_.load(),
           .bytes_total = manifest_.total_bytes(),
           .files_done = files_done_.load(),
           .files_total = static_cast<std::int64_t>(manifest_.files.size()),
           .seconds =
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
    };
    const int workers = std::clamp(request_.parallel, 1, 256);
    int running = workers;
    {
      std::vector<std::jthread> threads;
      for (int w = 0; w < workers; ++w) {
        threads.emplace_back([&] {
          work(cancel);
          const std::scoped_lock lock(done_mutex_);
          --running;
          done_cv_.notify_all();
        });
      }
      std::unique_lock lock(done_mutex_);
      while (running > 0) {
        done_cv_.wait_for(lock, std::chrono::milliseconds(250));
        lock.unlock();
        report();
        lock.lock();
      }
    }
    // Files finished before a failure or a cancel are good: journal them for the next attempt.
    auto flushed = flush(/*force=*/true);
    if (failed_) return fail(first_error_);
    if (cancel != nullptr && cancel->load()) return fail(error(Kind::Cancelled, "cancelled"));
    if (!flushed) return flushed;
    report();
    return {};
  }

  std::int64_t bytes_copied() const { return bytes_copied_; }

 private:
  void fail_with(Kind kind, std::string message) {
    const std::scoped_lock lock(error_mutex_);
    if (!failed_) first_error_ = error(kind, std::move(message));
    failed_ = true;
  }

  void work(const std::atomic<bool>* cancel) {
    // Aligned for O_DIRECT writes.
    const std::unique_ptr<std::byte, decltype(&std::free)> buffer(
        static_cast<std::byte*>(
            std::aligned_alloc(kDirectAlign, static_cast<std::size_t>(dataset::kChunkBytes))),
        &std::free);
    if (!buffer) return fail_with(Kind::Io, "out of memory for a copy buffer");
    const std::span<std::byte> space(buffer.get(), static_cast<std::size_t>(dataset::kChunkBytes));
    for (std::size_t t = next_++; t < tasks_.size(); t = next_++) {
      if (failed_ || (cancel != nullptr && cancel->load())) return;
      copy_chunk(tasks_[t], space);
    }
  }

  void open_file(FileJob& job) {
    const auto& entry = manifest_.files[job.index];
    // A leftover from an interrupted copy (or anything planted there) is replaced, not followed.
    if (::unlinkat(partial_fd_, entry.path.c_str(), 0) != 0 && errno != ENOENT) {
      job.open_error = entry.path + ": cannot replace: " + errno_message();
      return;
    }
    auto out = open_beneath(partial_fd_, entry.path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (!out) {
      job.open_kind = errno == ENOSPC ? Kind::DiskFull : Kind::Refused;
      job.open_error = out.error();
      return;
    }
    if (entry.size > 0 && ::posix_fallocate(out->get(), 0, entry.size) == ENOSPC) {
      job.open_kind = Kind::DiskFull;
      job.open_error =
          entry.path + ": no space left on device for " + std::to_string(entry.size) + " bytes";
      return;
    }
    auto in = source_.open(entry);
    if (!in) {
      job.open_kind = Kind::Source;
      job.open_error = in.error();
      return;
    }
    job.out = std::move(out).value();
    job.in = std::move(in).value();
    // Files of whole chunks and more are written around the page cache: the data goes to the
    // disk while it is copied instead of piling up as dirty pages for the final sync. Where the
    // filesystem cannot (tmpfs), the buffered descriptor does it all.
    if (entry.size >= dataset::kChunkBytes) {
      auto direct = open_beneath(partial_fd_, entry.path, O_WRONLY | O_DIRECT);
      if (direct) job.direct = std::move(direct).value();
    }
  }

  void copy_chunk(const Task& task, std::span<std::byte> buffer) {
    FileJob& job = *task.job;
    const auto& entry = manifest_.files[job.index];
    std::call_once(job.opened, [&] { open_file(job); });
    if (!job.open_error.empty()) return fail_with(job.open_kind, job.open_error);
    const std::int64_t offset = task.chunk * dataset::kChunkBytes;
    const auto length =
        static_cast<std::size_t>(std::min(dataset::kChunkBytes, entry.size - offset));
    if (length > 0) {
      if (request_.max_bytes_per_s > 0) {
        // Each chunk waits for the moment the limit allows the bytes read before it.
        const double before = static_cast<double>(bytes_paced_.fetch_add(length));
        std::this_thread::sleep_until(
            paced_from_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(
                                  before / static_cast<double>(request_.max_bytes_per_s))));
      }
      const std::span<std::byte> data(buffer.data(), length);
      auto got = job.in->read_at(offset, data);
      if (!got)
        return fail_with(Kind::Source, source_.source() + "/" + entry.path + ": " + got.error());
      if (got.value() != length) {
        return fail_with(Kind::Source, source_.source() + "/" + entry.path +
                                           ": shorter than the manifest says (changed since it "
                                           "was scanned?)");
      }
      job.chunk_digests[static_cast<std::size_t>(task.chunk)] = dataset::chunk_digest(data);
      // The unaligned tail of a file goes through the buffered descriptor.
      int fd = job.direct.valid() && length % kDirectAlign == 0 ? job.direct.get() : job.out.get();
      std::size_t written = 0;
      while (written < length) {
        const ssize_t n = ::pwrite(fd, data.data() + written, length - written,
                                   static_cast<off_t>(offset + static_cast<std::int64_t>(written)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EINVAL && fd != job.out.get()) {
          fd = job.out.get();  // O_DIRECT refused this write after all: buffered will do
          continue;
        }
        if (n < 0) return fail_with(io_kind(), entry.path + ": write failed: " + errno_message());
        written += static_cast<std::size_t>(n);
      }
      bytes_done_ += static_cast<std::int64_t>(length);
      bytes_copied_ += static_cast<std::int64_t>(length);
    }
    if (--job.chunks_left == 0) finish_file(job);
  }

  void finish_file(FileJob& job) {
    auto& entry = manifest_.files[job.index];
    const std::uint64_t digest = dataset::file_digest(job.chunk_digests);
    if (request_.digests_known && digest != entry.digest) {
      return fail_with(Kind::Checksum, source_.source() + "/" + entry.path + ": content digest " +
                                           dataset::digest_hex(digest) + " is not the manifest's " +
                                           dataset::digest_hex(entry.digest) +
                                           " (source changed or damaged)");
    }
    entry.digest = digest;
    const struct timespec times[2] = {
        {.tv_sec = 0, .tv_nsec = UTIME_OMIT},
        {.tv_sec = entry.mtime_ns / 1'000'000'000, .tv_nsec = entry.mtime_ns % 1'000'000'000}};
    struct stat st {};
    if (::fchmod(job.out.get(), 0444) != 0 || ::futimens(job.out.get(), times) != 0 ||
        ::fstat(job.out.get(), &st) != 0) {
      return fail_with(io_kind(), entry.path + ": " + errno_message());
    }
    stats_[job.index] = staged_stat(st);
    job.direct = Fd();
    job.out = Fd();
    job.in.reset();
    ++files_done_;
    {
      const std::scoped_lock lock(pending_mutex_);
      pending_.push_back({.file = entry, .stat = stats_[job.index]});
      pending_bytes_ += entry.size;
    }
    if (auto ok = flush(/*force=*/false); !ok) fail_with(ok.error().kind, ok.error().message);
  }

  // Files enter the journal only after they are on disk (syncfs), so a resume after a crash
  // never trusts a file whose data was still in memory. Batched: one sync per 256 MiB, 2,000
  // files or second, whichever comes first.
  Result<void, StageError> flush(bool force) {
    std::vector<JournalEntry> batch;
    {
      const std::scoped_lock lock(pending_mutex_);
      const auto now = std::chrono::steady_clock::now();
      if (pending_.empty() || (!force && pending_.size() < 2000 && pending_bytes_ < (256LL << 20) &&
                               now - last_flush_ < std::chrono::seconds(1))) {
        return {};
      }
      batch.swap(pending_);
      pending_bytes_ = 0;
      last_flush_ = now;
    }
    const std::scoped_lock lock(flush_mutex_);
    if (::syncfs(partial_fd_) != 0) return fail(error(io_kind(), "syncfs: " + errno_message()));
    if (auto ok = append_journal(journal_, batch); !ok) return fail(error(Kind::Io, ok.error()));
    return {};
  }

  const StageRequest& request_;
  const StagingBackend& source_;
  int partial_fd_;
  fs::path journal_;
  dataset::Manifest& manifest_;
  std::vector<StagedStat>& stats_;

  std::vector<std::unique_ptr<FileJob>> jobs_;
  std::vector<Task> tasks_;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::int64_t> bytes_done_{0}, files_done_{0}, bytes_copied_{0};
  std::atomic<std::size_t> bytes_paced_{0};
  std::chrono::steady_clock::time_point paced_from_;

  std::mutex error_mutex_;
  std::atomic<bool> failed_{false};
  StageError first_error_;

  std::mutex pending_mutex_, flush_mutex_;
  std::vector<JournalEntry> pending_;
  std::int64_t pending_bytes_ = 0;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();

  std::mutex done_mutex_;
  std::condition_variable done_cv_;
};

// Removes everything under the partial copy that the manifest does not name (files of an older
// version, leftovers, anything planted): only manifest files and their directories stay.
Result<void, StageError> prune_partial(const fs::path& partial, const dataset::Manifest& manifest) {
  std::set<std::string> keep_dirs;
  for (const auto& f : manifest.files) {
    for (std::size_t s = f.path.find('/'); s != std::string::npos; s = f.path.find('/', s + 1)) {
      keep_dirs.insert(f.path.substr(0, s));
    }
  }
  std::vector<fs::path> doomed;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(partial, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string rel = it->path().lexically_relative(partial).generic_string();
    const auto status = it->symlink_status(ec);
    if (ec) break;
    const bool keep = fs::is_directory(status) ? keep_dirs.contains(rel)
                                               : fs::is_regular_file(status) && manifest.find(rel);
    if (!keep) {
      doomed.push_back(it->path());
      if (fs::is_directory(status)) it.disable_recursion_pending();
    }
  }
  if (ec) return fail(error(Kind::Io, partial.string() + ": " + ec.message()));
  for (const auto& p : doomed) {
    fs::remove_all(p, ec);
    if (ec) return fail(error(Kind::Io, p.string() + ": " + ec.message()));
  }
  return {};
}

}  // namespace

std::string kind_name(StageError::Kind kind) {
  switch (kind) {
    case Kind::Source:
      return "source";
    case Kind::Checksum:
      return "checksum";
    case Kind::DiskFull:
      return "disk-full";
    case Kind::Io:
      return "io";
    case Kind::Refused:
      return "refused";
    case Kind::Cancelled:
      return "cancelled";
  }
  return "io";
}

Result<StageOutcome, StageError> stage_dataset(const StageRequest& request,
                                               const StagingBackend& source,
                                               const ProgressFn& on_progress,
                                               const std::atomic<bool>* cancel) {
  const StagePaths paths = stage_paths(request.dest);
  StageOutcome outcome;
  outcome.manifest = request.manifest;
  auto& manifest = outcome.manifest;
  std::vector<StagedStat> stats(manifest.files.size());
  std::vector<bool> have(manifest.files.size(), false);
  std::error_code ec;
  fs::create_directories(paths.dest.parent_path(), ec);
  if (ec) return fail(error(Kind::Io, paths.dest.parent_path().string() + ": " + ec.message()));

  // 1. A published copy: keep every file that is still what was verified.
  std::optional<StageRecord> read_here;
  const StageRecord* record = request.record.get();
  if (record == nullptr) {
    read_here = read_record(paths.record);
    if (read_here) record = &*read_here;
  }
  const bool dest_exists = fs::exists(fs::symlink_status(paths.dest, ec));
  if (dest_exists && !fs::is_directory(fs::symlink_status(paths.dest, ec))) {
    return fail(error(Kind::Refused, paths.dest.string() + ": exists and is not a directory"));
  }
  // The copy is whole and verified: nothing to do but say so.
  const auto unchanged = [&]() -> Result<StageOutcome, StageError> {
    outcome.unchanged = true;
    outcome.files_kept = static_cast<std::int64_t>(manifest.files.size());
    if (on_progress) {
      on_progress({.bytes_done = manifest.total_bytes(),
                   .bytes_total = manifest.total_bytes(),
                   .files_done = static_cast<std::int64_t>(manifest.files.size()),
                   .files_total = static_cast<std::int64_t>(manifest.files.size()),
                   .seconds = 0});
    }
    return outcome;
  };
  if (dest_exists && record) {
    auto dest_fd = open_directory(paths.dest.string());
    if (!dest_fd) return fail(error(Kind::Io, dest_fd.error()));
    if (!request.full_check &&
        intact_copy(dest_fd->get(), *record, manifest, request.digests_known, request.parallel)) {
      for (std::size_t i = 0; i < manifest.files.size(); ++i) {
        manifest.files[i].digest = record->manifest.files[i].digest;
        manifest.files[i].mtime_ns = record->manifest.files[i].mtime_ns;
      }
      return unchanged();
    }
    std::vector<std::byte> buffer;
    bool intact = record->manifest.files.size() == manifest.files.size();
    for (std::size_t r = 0; r < record->manifest.files.size(); ++r) {
      const auto& old = record->manifest.files[r];
      const auto* want = manifest.find(old.path);
      if (want == nullptr || !same_file(old, *want, request.digests_known)) {
        intact = false;
        continue;
      }
      const auto index = static_cast<std::size_t>(want - manifest.files.data());
      auto fd = open_beneath(dest_fd->get(), old.path, O_RDONLY | O_NOFOLLOW);
      struct stat st {};
      bool good =
          fd && ::fstat(fd->get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == old.size;
      if (good && (request.full_check || !stat_matches(st, old, record->stats[r]))) {
        auto digest = dataset::digest_open_file(fd->get(), old.size, buffer);
        good = digest && digest.value() == old.digest && (::fstat(fd->get(), &st) == 0);
        if (!good) ++outcome.files_repaired;
      }
      if (!good) {
        intact = false;
        continue;
      }
      manifest.files[index].digest = old.digest;
      manifest.files[index].mtime_ns = old.mtime_ns;
      stats[index] = staged_stat(st);
      if (!stat_matches(st, old, record->stats[r])) intact = false;  // re-record its new stat
      have[index] = true;
    }
    if (intact && std::all_of(have.begin(), have.end(), [](bool b) { return b; })) {
      return unchanged();
    }
    // Back to a partial copy whose journal lists the files that are still good.
    fs::remove_all(paths.partial, ec);
    fs::remove(paths.journal, ec);
    fs::remove(paths.record, ec);
    if (::rename(paths.dest.c_str(), paths.partial.c_str()) != 0) {
      return fail(error(Kind::Io, "cannot reopen " + paths.dest.string() + ": " + errno_message()));
    }
    std::vector<JournalEntry> kept;
    for (std::size_t i = 0; i < manifest.files.size(); ++i) {
      if (have[i]) kept.push_back({.file = manifest.files[i], .stat = stats[i]});
    }
    if (auto ok = append_journal(paths.journal, kept); !ok)
      return fail(error(Kind::Io, ok.error()));
  } else if (dest_exists) {
    // Only an empty directory may be staged into (rename replaces it); anything else is not ours.
    if (!fs::is_empty(paths.dest, ec)) {
      return fail(error(Kind::Refused, paths.dest.string() +
                                           ": exists, is not empty and was not staged here; "
                                           "refusing to overwrite it"));
    }
  }

  // 2. A partial copy: trust the files its journal lists, if they are unchanged.
  fs::create_directory(paths.partial, ec);
  if (ec) return fail(error(io_kind(), paths.partial.string() + ": " + ec.message()));
  auto partial_fd = open_directory(paths.partial.string());
  if (!partial_fd) return fail(error(Kind::Io, partial_fd.error()));
  std::fill(have.begin(), have.end(), false);
  for (const auto& e : read_journal(paths.journal)) {
    const auto* want = manifest.find(e.file.path);
    if (want == nullptr || !same_file(e.file, *want, request.digests_known)) continue;
    auto fd = open_beneath(partial_fd->get(), e.file.path, O_PATH | O_NOFOLLOW);
    struct stat st {};
    if (!fd || ::fstat(fd->get(), &st) != 0 || !stat_matches(st, e.file, e.stat)) continue;
    const auto index = static_cast<std::size_t>(want - manifest.files.data());
    manifest.files[index].digest = e.file.digest;
    stats[index] = e.stat;
    have[index] = true;
  }
  if (auto ok = prune_partial(paths.partial, manifest); !ok) return fail(ok.error());

  // 3. Copy what is missing.
  std::vector<std::size_t> todo;
  std::set<std::string> dirs;
  std::int64_t bytes_kept = 0;
  for (std::size_t i = 0; i < manifest.files.size(); ++i) {
    if (have[i]) {
      ++outcome.files_kept;
      bytes_kept += manifest.files[i].size;
      continue;
    }
    todo.push_back(i);
    const auto slash = manifest.files[i].path.rfind('/');
    if (slash != std::string::npos) dirs.insert(manifest.files[i].path.substr(0, slash));
  }
  for (const auto& dir : dirs) {
    if (auto ok = make_directories_beneath(partial_fd->get(), dir); !ok) {
      return fail(error(errno == ENOSPC ? Kind::DiskFull : Kind::Refused, ok.error()));
    }
  }
  Copier copier(request, source, partial_fd->get(), paths.journal, manifest, stats);
  if (auto ok = copier.run(todo, bytes_kept, outcome.files_kept, on_progress, cancel); !ok) {
    return fail(ok.error());
  }
  outcome.files_copied = static_cast<std::int64_t>(todo.size());
  outcome.files_repaired = std::min(outcome.files_repaired, outcome.files_copied);
  outcome.bytes_copied = copier.bytes_copied();

  // 4. Publish: data on disk, then the record, then the name.
  if (::syncfs(partial_fd->get()) != 0) return fail(error(io_kind(), "syncfs: " + errno_message()));
  if (auto ok = write_record(paths.record, {.manifest = manifest, .stats = stats}); !ok) {
    return fail(error(io_kind(), ok.error()));
  }
  if (dest_exists && !record) fs::remove(paths.dest, ec);  // the empty directory staged into
  if (::rename(paths.partial.c_str(), paths.dest.c_str()) != 0) {
    return fail(error(Kind::Io, "cannot publish " + paths.dest.string() + ": " + errno_message()));
  }
  auto parent_fd = open_directory(paths.dest.parent_path().string());
  if (parent_fd) ::fsync(parent_fd->get());
  fs::remove(paths.journal, ec);
  return outcome;
}

}  // namespace sy::staging
