// An acknowledged write is on the disk, not only in the page cache. Killing the process (the
// crash tests) cannot show this: the kernel keeps what was written. Here a SQLite VFS of the
// test's own wraps the real one and keeps, for each file, only what it held at its last xSync:
// the image a power cut would leave. After the commit queue acknowledges a job, the store is
// opened from that image and the job must be there. With `synchronous=NORMAL` (WAL mode syncs
// only at checkpoints) or `OFF`, the image lacks the commit and this test fails.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <string>

#include "common/job_spec.hpp"
#include "controller/store/commit_queue.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/migrations.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;
using namespace sy::store;

namespace {

// The bytes of each file as of its last sync, until it is deleted. The WAL index (-shm) is
// shared memory, never synced: SQLite rebuilds it from the WAL after a crash.
struct DurableImage {
  std::mutex mutex;
  std::map<std::string, std::string> synced;  // path -> bytes
  int syncs = 0;
};
DurableImage image;
sqlite3_vfs* real_vfs = nullptr;

struct ProbeFile {
  sqlite3_file base;
  sqlite3_file* real;
  std::string* path;
};

sqlite3_file* real_of(sqlite3_file* f) {
  return reinterpret_cast<ProbeFile*>(f)->real;
}

int probe_close(sqlite3_file* f) {
  auto* p = reinterpret_cast<ProbeFile*>(f);
  const int rc = p->real->pMethods->xClose(p->real);
  delete p->path;
  return rc;
}
int probe_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
int probe_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
int probe_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
int probe_sync(sqlite3_file* f, int flags) {
  auto* p = reinterpret_cast<ProbeFile*>(f);
  const int rc = p->real->pMethods->xSync(p->real, flags);
  if (rc != SQLITE_OK) return rc;
  sqlite3_int64 size = 0;
  if (p->real->pMethods->xFileSize(p->real, &size) != SQLITE_OK) return SQLITE_IOERR_FSYNC;
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (size > 0 &&
      p->real->pMethods->xRead(p->real, bytes.data(), static_cast<int>(size), 0) != SQLITE_OK) {
    return SQLITE_IOERR_FSYNC;
  }
  std::lock_guard lock(image.mutex);
  image.synced[*p->path] = std::move(bytes);
  ++image.syncs;
  return SQLITE_OK;
}
int probe_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int probe_lock(sqlite3_file* f, int level) {
  return real_of(f)->pMethods->xLock(real_of(f), level);
}
int probe_unlock(sqlite3_file* f, int level) {
  return real_of(f)->pMethods->xUnlock(real_of(f), level);
}
int probe_check_reserved(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int probe_file_control(sqlite3_file* f, int op, void* arg) {
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int probe_sector_size(sqlite3_file* f) {
  return real_of(f)->pMethods->xSectorSize(real_of(f));
}
int probe_device_characteristics(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int probe_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, out);
}
int probe_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void probe_shm_barrier(sqlite3_file* f) {
  real_of(f)->pMethods->xShmBarrier(real_of(f));
}
int probe_shm_unmap(sqlite3_file* f, int delete_flag) {
  return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

// Version 2: shared memory for WAL; no memory-mapped reads (xFetch), so every read goes
// through xRead.
const sqlite3_io_methods probe_methods = {
    2,
    probe_close,
    probe_read,
    probe_write,
    probe_truncate,
    probe_sync,
    probe_file_size,
    probe_lock,
    probe_unlock,
    probe_check_reserved,
    probe_file_control,
    probe_sector_size,
    probe_device_characteristics,
    probe_shm_map,
    probe_shm_lock,
    probe_shm_barrier,
    probe_shm_unmap,
    nullptr,
    nullptr,
};

int probe_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* p = reinterpret_cast<ProbeFile*>(f);
  p->real = reinterpret_cast<sqlite3_file*>(p + 1);
  p->path = nullptr;
  p->base.pMethods = nullptr;
  const int rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  p->path = new std::string(name ? name : "");
  p->base.pMethods = &probe_methods;
  return SQLITE_OK;
}
// A deleted file (a committed rollback journal, a checkpointed WAL) is gone from the image too.
int probe_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  const int rc = real_vfs->xDelete(real_vfs, name, sync_dir);
  if (rc == SQLITE_OK) {
    std::lock_guard lock(image.mutex);
    image.synced.erase(name);
  }
  return rc;
}
int probe_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return real_vfs->xAccess(real_vfs, name, flags, out);
}
int probe_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return real_vfs->xFullPathname(real_vfs, name, n, out);
}
int probe_randomness(sqlite3_vfs*, int n, char* out) {
  return real_vfs->xRandomness(real_vfs, n, out);
}
int probe_sleep(sqlite3_vfs*, int us) {
  return real_vfs->xSleep(real_vfs, us);
}
int probe_current_time(sqlite3_vfs*, double* out) {
  return real_vfs->xCurrentTime(real_vfs, out);
}
int probe_last_error(sqlite3_vfs*, int n, char* out) {
  return real_vfs->xGetLastError(real_vfs, n, out);
}

// Installs the probe as the default VFS for the test's lifetime, then puts the real one back.
struct ProbeVfs {
  sqlite3_vfs vfs{};
  ProbeVfs() {
    real_vfs = sqlite3_vfs_find(nullptr);
    REQUIRE(real_vfs != nullptr);
    vfs.iVersion = 1;
    vfs.szOsFile = static_cast<int>(sizeof(ProbeFile)) + real_vfs->szOsFile;
    vfs.mxPathname = real_vfs->mxPathname;
    vfs.zName = "sy-power-cut-probe";
    vfs.xOpen = probe_open;
    vfs.xDelete = probe_delete;
    vfs.xAccess = probe_access;
    vfs.xFullPathname = probe_full_pathname;
    vfs.xRandomness = probe_randomness;
    vfs.xSleep = probe_sleep;
    vfs.xCurrentTime = probe_current_time;
    vfs.xGetLastError = probe_last_error;
    REQUIRE(sqlite3_vfs_register(&vfs, 1) == SQLITE_OK);
  }
  ~ProbeVfs() {
    sqlite3_vfs_register(real_vfs, 1);
    sqlite3_vfs_unregister(&vfs);
  }
};

}  // namespace

TEST_CASE("an acknowledged job survives a power cut: it was synced before the acknowledgement",
          "[store][durability]") {
  test::TempDir dir;
  std::map<std::string, std::string> at_ack;
  JobId id = -1;
  {
    ProbeVfs probe;
    {
      std::lock_guard lock(image.mutex);
      image.synced.clear();
      image.syncs = 0;
    }
    auto db = Db::open(dir.file("s.db"), Db::Mode::read_write);
    REQUIRE(db.ok());
    REQUIRE(migrate(db.value()).ok());
    auto started = CommitQueue::start(std::move(db).value(), 16);
    REQUIRE(started.ok());
    // Closed before the probe goes: closing the database still calls its VFS.
    std::unique_ptr<CommitQueue> queue = std::move(started).value();

    auto spec = job_spec_from_yaml("name: durable\ncommand: [train]\n", "t.yaml");
    REQUIRE(spec.ok());
    std::promise<JobId> acked;
    queue->submit(
        [&](Stores& s) -> Result<void, StoreError> {
          auto r = s.jobs.insert(NewJob{spec.value(), "alice", std::nullopt, 1000});
          if (!r) return fail(std::move(r).error());
          id = r->id;
          return {};
        },
        [&](Result<void, StoreError> r) { acked.set_value(r ? id : -1); });
    REQUIRE(acked.get_future().get() > 0);
    // The power goes now: what survives is what was synced.
    {
      std::lock_guard lock(image.mutex);
      at_ack = image.synced;
      CHECK(image.syncs > 0);
    }
    queue.reset();
  }

  test::TempDir after;
  for (const auto& [path, bytes] : at_ack) {
    std::ofstream(after.file(std::filesystem::path(path).filename()), std::ios::binary) << bytes;
  }
  INFO("files synced before the acknowledgement: " << at_ack.size());
  auto db = Db::open(after.file("s.db"), Db::Mode::read_write);
  REQUIRE(db.ok());
  auto jobs = JobStore::open(db.value());
  if (!jobs) FAIL(jobs.error().message);
  auto job = jobs->get(id);
  REQUIRE(job.ok());
  REQUIRE(job.value().has_value());
  CHECK(job.value()->spec.name == "durable");
}
