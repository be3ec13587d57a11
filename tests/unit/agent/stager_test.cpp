// The stager and the Tier-0 cache against real directories: copies verified and published
// whole, unchanged re-stages, repair of a changed file, resume after an interruption, a source
// changed behind the manifest, hostile paths, quota, LRU eviction and pins.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "agent/staging/stage_record.hpp"
#include "agent/staging/tier0_cache.hpp"
#include "plugins/staging/file_backend.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace sy;
using staging::StageError;
using sy::test::read_file;

namespace {

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

// A dataset with nested directories, an empty file and a file of several 8 MiB chunks.
void make_dataset(const fs::path& root, char fill = 'a') {
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 10; ++i) {
      write_file(root / ("class" + std::to_string(c)) / ("img" + std::to_string(i) + ".jpg"),
                 std::string(1000 + 37 * i, static_cast<char>(fill + c)));
    }
  }
  write_file(root / "labels" / "empty.txt", "");
  std::string shard(20 << 20, 'x');
  for (std::size_t i = 0; i < shard.size(); i += 4093)
    shard[i] = static_cast<char>(i % 251);
  write_file(root / "shards" / "train-0000.tar", shard);
}

dataset::Manifest scan(const fs::path& root, const std::string& name = "ds") {
  const staging::FileBackend backend(root.string());
  auto m = backend.scan(name, /*with_digests=*/true, 4);
  REQUIRE(m.ok());
  return std::move(m).value();
}

staging::StageRequest request_for(const dataset::Manifest& m, const fs::path& dest) {
  return {.manifest = m,
          .digests_known = true,
          .dest = dest,
          .parallel = 4,
          .full_check = false,
          .max_bytes_per_s = 0,
          .record = nullptr};
}

bool same_tree(const fs::path& a, const fs::path& b) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(a)) {
    if (!e.is_regular_file()) continue;
    ++n;
    const auto other = b / e.path().lexically_relative(a);
    if (!fs::is_regular_file(other) || read_file(e.path()) != read_file(other)) return false;
  }
  std::size_t m = 0;
  for (const auto& e : fs::recursive_directory_iterator(b))
    m += e.is_regular_file() ? 1 : 0;
  return n == m;
}

// Counts the files the stager opens, and cancels after `cancel_after` of them.
class CountingBackend final : public staging::StagingBackend {
 public:
  CountingBackend(const fs::path& root, std::atomic<bool>* cancel, int cancel_after)
      : inner_(root.string()), cancel_(cancel), cancel_after_(cancel_after) {}
  std::string source() const override { return inner_.source(); }
  Result<dataset::Manifest, std::string> scan(const std::string& name, bool digests,
                                              int parallel) const override {
    return inner_.scan(name, digests, parallel);
  }
  Result<std::unique_ptr<staging::SourceFile>, std::string> open(
      const dataset::FileEntry& file) const override {
    if (++opened_ >= cancel_after_ && cancel_ != nullptr) *cancel_ = true;
    return inner_.open(file);
  }
  int opened() const { return opened_; }

 private:
  staging::FileBackend inner_;
  std::atomic<bool>* cancel_;
  int cancel_after_;
  mutable std::atomic<int> opened_{0};
};

}  // namespace

TEST_CASE("a dataset is staged whole, verified, published and then re-staged by stat alone") {
  test::TempDir dir;
  const fs::path src = dir.file("src"), dest = fs::path(dir.path()) / "cache" / "ds@v";
  make_dataset(src);
  const auto m = scan(src);
  REQUIRE(m.files.size() == 32);
  const staging::FileBackend backend(src.string());

  std::int64_t last_bytes = -1;
  auto first = staging::stage_dataset(
      request_for(m, dest), backend,
      [&](const staging::StageProgress& p) {
        CHECK(p.bytes_done >= last_bytes);
        last_bytes = p.bytes_done;
      },
      nullptr);
  REQUIRE(first.ok());
  CHECK_FALSE(first->unchanged);
  CHECK(first->files_copied == 32);
  CHECK(first->bytes_copied == m.total_bytes());
  CHECK(last_bytes == m.total_bytes());
  CHECK(same_tree(src, dest));
  // Nothing is left beside the copy but its record; the files are read-only.
  const auto paths = staging::stage_paths(dest);
  CHECK(fs::exists(paths.record));
  CHECK_FALSE(fs::exists(paths.partial));
  CHECK_FALSE(fs::exists(paths.journal));
  CHECK((fs::status(dest / "shards/train-0000.tar").permissions() & fs::perms::owner_write) ==
        fs::perms::none);

  auto again = staging::stage_dataset(request_for(m, dest), backend, {}, nullptr);
  REQUIRE(again.ok());
  CHECK(again->unchanged);
  CHECK(again->files_copied == 0);
  CHECK(again->bytes_copied == 0);
}

TEST_CASE("a staged file changed in place is found, and only it is copied again") {
  test::TempDir dir;
  const fs::path src = dir.file("src"), dest = dir.file("ds@v");
  make_dataset(src);
  const auto m = scan(src);
  const staging::FileBackend backend(src.string());
  REQUIRE(staging::stage_dataset(request_for(m, dest), backend, {}, nullptr).ok());

  // Same size, one byte different, mtime put back: only the ctime tells.
  const fs::path victim = dest / "class1/img3.jpg";
  const auto mtime = fs::last_write_time(victim);
  fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('Z');
  }
  fs::last_write_time(victim, mtime);
  REQUIRE(read_file(victim) != read_file(src / "class1/img3.jpg"));

  auto repaired = staging::stage_dataset(request_for(m, dest), backend, {}, nullptr);
  REQUIRE(repaired.ok());
  CHECK_FALSE(repaired->unchanged);
  CHECK(repaired->files_repaired == 1);
  CHECK(repaired->files_copied == 1);
  CHECK(repaired->files_kept == 31);
  CHECK(same_tree(src, dest));

  SECTION("a full check finds the same by content") {
    fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
    { std::fstream(victim, std::ios::in | std::ios::out | std::ios::binary).put('Q'); }
    auto req = request_for(m, dest);
    req.full_check = true;
    auto checked = staging::stage_dataset(req, backend, {}, nullptr);
    REQUIRE(checked.ok());
    CHECK(checked->files_repaired == 1);
    CHECK(same_tree(src, dest));
  }
}

TEST_CASE("an interrupted stage resumes without copying the verified files again") {
  test::TempDir dir;
  const fs::path src = dir.file("src"), dest = dir.file("ds@v");
  make_dataset(src);
  const auto m = scan(src);
  std::atomic<bool> cancel{false};
  const CountingBackend interrupted(src, &cancel, 12);
  auto req = request_for(m, dest);
  req.parallel = 1;
  auto first = staging::stage_dataset(req, interrupted, {}, &cancel);
  REQUIRE_FALSE(first.ok());
  CHECK(first.error().kind == StageError::Kind::Cancelled);
  CHECK_FALSE(fs::exists(dest));  // never visible half done
  CHECK(fs::exists(staging::stage_paths(dest).journal));

  const CountingBackend resumed(src, nullptr, 0);
  auto second = staging::stage_dataset(req, resumed, {}, nullptr);
  REQUIRE(second.ok());
  CHECK(second->files_kept >= 11);
  CHECK(second->files_copied == 32 - second->files_kept);
  CHECK(resumed.opened() == second->files_copied);
  CHECK(same_tree(src, dest));
}

TEST_CASE("a source that no longer matches its manifest is never published") {
  test::TempDir dir;
  const fs::path src = dir.file("src"), dest = dir.file("ds@v");
  make_dataset(src);
  const auto m = scan(src);
  write_file(src / "class2/img0.jpg", std::string(1000, 'Q'));  // same size, other bytes
  const staging::FileBackend backend(src.string());
  auto staged = staging::stage_dataset(request_for(m, dest), backend, {}, nullptr);
  REQUIRE_FALSE(staged.ok());
  CHECK(staged.error().kind == StageError::Kind::Checksum);
  CHECK_THAT(staged.error().message, Catch::Contains("class2/img0.jpg"));
  CHECK_FALSE(fs::exists(dest));

  fs::remove(src / "labels/empty.txt");
  auto missing = staging::stage_dataset(request_for(m, dest), backend, {}, nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind != StageError::Kind::Cancelled);
  CHECK_FALSE(fs::exists(dest));
}

TEST_CASE("hostile manifests and symlinks cannot reach outside the cache") {
  SECTION("paths that leave the dataset are refused when the manifest is read") {
    for (const std::string bad :
         {"../../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "./a", "a/", "line\nbreak"}) {
      const nlohmann::json j = {
          {"name", "evil"},
          {"files",
           {{{"path", bad}, {"size", 1}, {"mtime_ns", 0}, {"digest", "0000000000000000"}}}}};
      auto m = dataset::manifest_from_json(j);
      INFO(bad);
      REQUIRE_FALSE(m.ok());
      CHECK_THAT(m.error(), Catch::StartsWith("files[0].path"));
    }
  }
  test::TempDir dir;
  const fs::path src = dir.file("src"), outside = dir.file("outside");
  make_dataset(src);
  fs::create_directories(outside);

  SECTION("a manifest made in code with \"..\" still cannot write outside") {
    auto m = scan(src);
    m.files[0].path = "../outside/x";
    const staging::FileBackend backend(src.string());
    auto staged =
        staging::stage_dataset(request_for(m, dir.file("cache/ds@v")), backend, {}, nullptr);
    REQUIRE_FALSE(staged.ok());
    CHECK(fs::is_empty(outside));
  }
  SECTION("a symlink planted in a partial copy is removed, not followed") {
    const auto m = scan(src);
    const fs::path dest = dir.file("ds@v");
    const auto paths = staging::stage_paths(dest);
    fs::create_directories(paths.partial);
    fs::create_directory_symlink(outside, paths.partial / "class0");
    const staging::FileBackend backend(src.string());
    REQUIRE(staging::stage_dataset(request_for(m, dest), backend, {}, nullptr).ok());
    CHECK(fs::is_empty(outside));
    CHECK_FALSE(fs::is_symlink(dest / "class0"));
    CHECK(same_tree(src, dest));
  }
  SECTION("a symlink in the source is refused by the scan") {
    fs::create_symlink("/etc/passwd", src / "class0" / "passwd");
    const staging::FileBackend backend(src.string());
    auto m = backend.scan("ds", true, 2);
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.error(), Catch::Contains("class0/passwd") && Catch::Contains("symlink"));
  }
  SECTION("other sources are named, not guessed") {
    CHECK_FALSE(staging::make_staging_backend("s3://bucket/x").ok());
    CHECK_FALSE(staging::make_staging_backend("relative/dir").ok());
    CHECK(staging::make_staging_backend("file:///data/x").ok());
  }
}

TEST_CASE("the manifest's version follows content and layout, not mtimes") {
  test::TempDir dir;
  const fs::path src = dir.file("src");
  make_dataset(src);
  const auto a = scan(src);
  fs::last_write_time(src / "class0/img0.jpg",
                      fs::file_time_type::clock::now() - std::chrono::hours(5));
  CHECK(scan(src).version() == a.version());
  write_file(src / "class0/img0.jpg", std::string(1000, 'b'));
  CHECK(scan(src).version() != a.version());
  auto round = dataset::manifest_from_json(dataset::to_json(a));
  REQUIRE(round.ok());
  CHECK(round->version() == a.version());
  auto tampered = dataset::to_json(a);
  tampered["files"][3]["size"] = 5;
  CHECK_FALSE(dataset::manifest_from_json(tampered).ok());
}

TEST_CASE(
    "the Tier-0 cache keeps its quota by evicting the least recently used, never a pinned copy") {
  test::TempDir dir;
  std::vector<dataset::Manifest> sets;
  for (const char* name : {"a", "b", "c"}) {
    const fs::path src = dir.file(std::string("src-") + name);
    write_file(src / "data.bin", std::string(1 << 20, name[0]));
    sets.push_back(scan(src, name));
  }
  const auto backend_for = [&](const std::string& name) {
    return staging::FileBackend(dir.file("src-" + name));
  };
  staging::Tier0Cache cache(dir.file("tier0"), (2 << 20) + 1000);  // room for two
  REQUIRE(cache.load().ok());
  for (int i : {0, 1})
    REQUIRE(cache.stage(sets[i], backend_for(sets[i].name), 2, {}, nullptr).ok());
  ::usleep(20000);
  // Using a again makes b the least recently used.
  auto hit = cache.stage(sets[0], backend_for("a"), 2, {}, nullptr);
  REQUIRE(hit.ok());
  CHECK(hit->unchanged);
  REQUIRE(cache.stage(sets[2], backend_for("c"), 2, {}, nullptr).ok());
  CHECK(cache.take_evicted() == std::vector<std::string>{"b@" + sets[1].version()});
  CHECK_FALSE(fs::exists(cache.path_of("b", sets[1].version())));
  CHECK(cache.used_bytes() == 2 << 20);

  // Both held copies pinned by running jobs: b cannot come back, and nothing is evicted.
  CHECK(cache.pin("job-1", "a", sets[0].version()));
  CHECK(cache.pin("job-2", "c", sets[2].version()));
  CHECK_FALSE(cache.pin("job-3", "b", sets[1].version()));  // not held: nothing to pin
  auto full = cache.stage(sets[1], backend_for("b"), 2, {}, nullptr);
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().kind == StageError::Kind::DiskFull);
  CHECK(cache.take_evicted().empty());
  cache.unpin_all("job-1");
  REQUIRE(cache.stage(sets[1], backend_for("b"), 2, {}, nullptr).ok());
  CHECK(cache.take_evicted() == std::vector<std::string>{"a@" + sets[0].version()});

  // A restarted agent finds the same copies.
  staging::Tier0Cache reloaded(dir.file("tier0"), 10 << 20);
  REQUIRE(reloaded.load().ok());
  const auto copies = reloaded.list();
  REQUIRE(copies.size() == 2);
  CHECK(copies[0].name == "b");
  CHECK(copies[1].name == "c");
}

TEST_CASE("stage records read back as written, in lines or in the JSON of earlier versions") {
  test::TempDir dir;
  staging::StageRecord record;
  record.manifest.name = "ds";
  record.manifest.files = {{.path = "a/b.bin", .size = 10, .mtime_ns = 7, .digest = 0xabcdef},
                           {.path = "c", .size = 0, .mtime_ns = 8, .digest = 1}};
  record.stats = {{.ino = 11, .ctime_ns = 12}, {.ino = 13, .ctime_ns = 14}};
  const fs::path path = dir.file(".ds.verified");
  REQUIRE(staging::write_record(path, record).ok());
  CHECK(read_file(path).rfind("sy-stage-record 2 ds\na/b.bin\t10\t7\t", 0) == 0);
  auto back = staging::read_record(path);
  REQUIRE(back);
  CHECK(back->manifest.version() == record.manifest.version());
  CHECK(back->stats[1].ino == 13);
  CHECK(back->stats[1].ctime_ns == 14);

  // Torn, hostile or unordered records are no records: the copy is then not trusted.
  const std::string good = read_file(path);
  for (const std::string& bad :
       {good.substr(0, good.size() - 1), std::string("sy-stage-record 2 ds\n../x\t1\t1\t1\t1\t1\n"),
        std::string("sy-stage-record 2 ds\nb\t1\t1\t1\t1\t1\na\t1\t1\t1\t1\t1\n"),
        std::string("sy-stage-record 2 ds\na\t1\t1\t1\t1\n")}) {
    write_file(path, bad);
    CHECK_FALSE(staging::read_record(path));
  }

  // A record written by an earlier agent (JSON) is still read.
  nlohmann::json stats = nlohmann::json::array({{11, 12}, {13, 14}});
  write_file(
      path,
      nlohmann::json{{"manifest", dataset::to_json(record.manifest)}, {"stats", stats}}.dump());
  auto legacy = staging::read_record(path);
  REQUIRE(legacy);
  CHECK(legacy->manifest.version() == record.manifest.version());
  CHECK(legacy->stats[0].ino == 11);
}

TEST_CASE(
    "a copy untouched since it was verified is trusted, and any write, chmod or restart ends "
    "that") {
  test::TempDir dir;
  const fs::path src = dir.file("src");
  make_dataset(src);
  const auto manifest = scan(src, "ds");
  const staging::FileBackend backend(src.string());
  staging::Tier0Cache cache(dir.file("tier0"), 1LL << 30);
  REQUIRE(cache.load().ok());
  CHECK_FALSE(cache.untouched("ds", manifest.version()));  // not there yet
  REQUIRE(cache.stage(manifest, backend, 4, {}, nullptr).ok());
  const auto held = cache.untouched("ds", manifest.version());
  REQUIRE(held);
  CHECK(held->files == static_cast<std::int64_t>(manifest.files.size()));
  CHECK(held->bytes == manifest.total_bytes());
  // Reading does not count.
  CHECK(read_file(cache.path_of("ds", manifest.version()) / manifest.files[0].path).size() ==
        static_cast<std::size_t>(manifest.files[0].size));
  CHECK(cache.untouched("ds", manifest.version()));

  // A file written in place: no longer trusted; the next stage repairs it and trusts it again.
  const fs::path victim = cache.path_of("ds", manifest.version()) / manifest.files[2].path;
  fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream out(victim, std::ios::in | std::ios::out | std::ios::binary);
    out.seekp(0);
    out.put('X');
  }
  CHECK_FALSE(cache.untouched("ds", manifest.version()));
  auto repaired = cache.stage(manifest, backend, 4, {}, nullptr);
  REQUIRE(repaired.ok());
  CHECK(repaired->files_copied == 1);
  CHECK(cache.untouched("ds", manifest.version()));

  // A chmod alone is a change too.
  fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
  CHECK_FALSE(cache.untouched("ds", manifest.version()));
  REQUIRE(cache.stage(manifest, backend, 4, {}, nullptr).ok());

  // A restarted agent trusts nothing it has not checked itself.
  staging::Tier0Cache restarted(dir.file("tier0"), 1LL << 30);
  REQUIRE(restarted.load().ok());
  CHECK_FALSE(restarted.untouched("ds", manifest.version()));
  REQUIRE(restarted.stage(manifest, backend, 4, {}, nullptr).ok());
  CHECK(restarted.untouched("ds", manifest.version()));
}
