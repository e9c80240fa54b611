// Fault injection for SQLite (issue 19, item 3; tests/live/test_sqlite_faults.cpp): a VFS that
// wraps the default one and, when armed, makes chosen calls fail the way a full or failing disk or
// another writer would. SQLite itself then runs its real error paths (rollback of the failed
// commit, the busy handler, the pager's error state), so the store is tested against what SQLite
// really does, not against a mock. Registered only by a test calling arm_fault: stepq's own
// connections never go through it.
#include <atomic>
#include <mutex>

#include "db.hpp"

namespace stepq::sqlite {

namespace {

sqlite3_vfs* g_real = nullptr;  // the default VFS this one wraps ("unix")
sqlite3_vfs g_vfs;
sqlite3_io_methods g_methods;

// The armed fault: `g_kind` is read (relaxed) on every wrapped call, the rest only once it matches.
std::atomic<int> g_kind{static_cast<int>(Fault::none)};
std::mutex g_mu;
int g_skip = 0, g_times = 0, g_injected = 0;

// What every wrapped call pays while nothing is armed.
bool armed() { return g_kind.load(std::memory_order_relaxed) != static_cast<int>(Fault::none); }

// Whether this call of `kind` is to fail: after `skip` calls have passed, the next `times` do.
bool take(Fault kind) {
  std::lock_guard lk(g_mu);
  if (g_kind.load(std::memory_order_relaxed) != static_cast<int>(kind) || g_times == 0) return false;
  if (g_skip > 0) {
    --g_skip;
    return false;
  }
  --g_times;
  ++g_injected;
  if (g_times == 0) g_kind.store(static_cast<int>(Fault::none), std::memory_order_relaxed);
  return true;
}

// The wrapped file: our methods first, then the real VFS's file, which SQLite sized for us
// (szOsFile) and which holds the real methods.
struct File {
  sqlite3_file base;
  sqlite3_file* real;
};
sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }
const sqlite3_io_methods& m(sqlite3_file* f) { return *real(f)->pMethods; }

int x_close(sqlite3_file* f) { return m(f).xClose(real(f)); }
int x_read(sqlite3_file* f, void* p, int n, sqlite3_int64 at) { return m(f).xRead(real(f), p, n, at); }
int x_write(sqlite3_file* f, const void* p, int n, sqlite3_int64 at) {
  if (armed()) {
    if (take(Fault::write)) return SQLITE_IOERR_WRITE;
    if (take(Fault::full)) return SQLITE_FULL;
  }
  return m(f).xWrite(real(f), p, n, at);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) { return m(f).xTruncate(real(f), size); }
int x_sync(sqlite3_file* f, int flags) {
  if (armed() && take(Fault::sync)) return SQLITE_IOERR_FSYNC;
  return m(f).xSync(real(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return m(f).xFileSize(real(f), size); }
int x_lock(sqlite3_file* f, int level) { return m(f).xLock(real(f), level); }
int x_unlock(sqlite3_file* f, int level) { return m(f).xUnlock(real(f), level); }
int x_check_reserved(sqlite3_file* f, int* out) { return m(f).xCheckReservedLock(real(f), out); }
int x_file_control(sqlite3_file* f, int op, void* arg) { return m(f).xFileControl(real(f), op, arg); }
int x_sector_size(sqlite3_file* f) { return m(f).xSectorSize(real(f)); }
int x_device(sqlite3_file* f) { return m(f).xDeviceCharacteristics(real(f)); }
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** p) {
  return m(f).xShmMap(real(f), region, size, extend, p);
}
// In WAL mode (the store's) a writer's lock is not a file lock (xLock) but the exclusive lock on
// the shared-memory slot 0 (WAL_WRITE_LOCK): refusing it is what another connection's open write
// transaction looks like to BEGIN IMMEDIATE.
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  if (armed() && offset == 0 && n == 1 && flags == (SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE) && take(Fault::busy))
    return SQLITE_BUSY;
  return m(f).xShmLock(real(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { m(f).xShmBarrier(real(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return m(f).xShmUnmap(real(f), del); }
int x_fetch(sqlite3_file* f, sqlite3_int64 at, int n, void** p) { return m(f).xFetch(real(f), at, n, p); }
int x_unfetch(sqlite3_file* f, sqlite3_int64 at, void* p) { return m(f).xUnfetch(real(f), at, p); }

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* w = reinterpret_cast<File*>(f);
  w->real = reinterpret_cast<sqlite3_file*>(w + 1);
  const int rc = g_real->xOpen(g_real, name, w->real, flags, out_flags);
  // SQLite calls xClose after a failed open only when pMethods is set: as the real file says.
  w->base.pMethods = w->real->pMethods ? &g_methods : nullptr;
  return rc;
}

void install() {
  static std::once_flag once;
  std::call_once(once, [] {
    before_first_use();
    g_real = sqlite3_vfs_find(nullptr);
    if (!g_real) throw DbError("no default SQLite VFS to wrap", SQLITE_ERROR);
    // Everything but xOpen is the real VFS's own, called with our struct: a copy of it, so its
    // pAppData and mxPathname are what those functions expect.
    g_vfs = *g_real;
    g_vfs.zName = "stepq-faults";
    g_vfs.pNext = nullptr;
    g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_real->szOsFile;
    g_vfs.xOpen = x_open;
    g_methods = {3,          x_close,       x_read,           x_write,        x_truncate,    x_sync,   x_file_size,
                 x_lock,     x_unlock,      x_check_reserved, x_file_control, x_sector_size, x_device, x_shm_map,
                 x_shm_lock, x_shm_barrier, x_shm_unmap,      x_fetch,        x_unfetch};
    const int rc = sqlite3_vfs_register(&g_vfs, 1);
    if (rc != SQLITE_OK) throw DbError("cannot register the fault-injecting SQLite VFS", rc);
  });
}

}  // namespace

void arm_fault(Fault kind, int skip, int times) {
  install();
  std::lock_guard lk(g_mu);
  g_skip = skip;
  g_times = kind == Fault::none ? 0 : times;
  g_injected = 0;
  g_kind.store(static_cast<int>(g_times > 0 ? kind : Fault::none), std::memory_order_relaxed);
}

int fault_pending() {
  std::lock_guard lk(g_mu);
  return g_times;
}

int faults_injected() {
  std::lock_guard lk(g_mu);
  return g_injected;
}

}  // namespace stepq::sqlite
