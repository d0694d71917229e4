#include "tests/helpers/faulty_vfs.hpp"

#include <sqlite3.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace ktune::testing {

namespace {

constexpr const char* kVfsName = "ktune-faulty";

// The state every file shares: the plan, its budgets, the counters.
struct State {
  std::mutex mutex;
  bool armed = false;
  VfsFaultPlan plan;
  VfsCounters counters;
};

State& state() {
  static State s;
  return s;
}

sqlite3_vfs* g_real = nullptr;  // the wrapped VFS (the default before install())

struct FaultyFile {
  sqlite3_file base;   // base.pMethods = our methods
  sqlite3_file* real;  // the wrapped VFS's file, placed right after this struct
  const char* name;    // valid until xClose (SQLite guarantees it); may be null (temp files)
};

sqlite3_file* real_of(sqlite3_file* f) {
  return reinterpret_cast<FaultyFile*>(f)->real;
}

bool plan_applies(const State& s, const FaultyFile* f) {
  if (!s.armed) return false;
  const std::string& suffix = s.plan.only_files_ending_with;
  if (suffix.empty()) return true;
  if (f->name == nullptr) return false;
  const std::size_t n = std::strlen(f->name);
  return n >= suffix.size() && std::memcmp(f->name + n - suffix.size(), suffix.data(), suffix.size()) == 0;
}

// ---- file methods ----

int f_close(sqlite3_file* f) {
  sqlite3_file* real = real_of(f);
  const int rc = real->pMethods != nullptr ? real->pMethods->xClose(real) : SQLITE_OK;
  f->pMethods = nullptr;
  return rc;
}

int f_read(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xRead(real, buffer, amount, offset);
}

int f_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  sqlite3_file* real = real_of(f);
  State& s = state();
  int allowed = amount;
  int error = SQLITE_OK;
  {
    std::lock_guard lock(s.mutex);
    ++s.counters.writes;
    if (plan_applies(s, reinterpret_cast<FaultyFile*>(f))) {
      const int fail_code = s.plan.disk_full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
      if (s.plan.writes_left == 0) {
        allowed = 0;
        error = fail_code;
      } else if (s.plan.writes_left > 0) {
        --s.plan.writes_left;
      }
      if (error == SQLITE_OK && s.plan.write_bytes_left >= 0) {
        if (s.plan.write_bytes_left < amount) {
          allowed = static_cast<int>(s.plan.write_bytes_left);
          error = fail_code;
        }
        s.plan.write_bytes_left -= allowed;
      }
      if (error != SQLITE_OK) ++s.counters.failures;
    }
  }
  if (allowed > 0) {
    // The part that fits reaches the file, as with a short write(2) on a full disk.
    const int rc = real->pMethods->xWrite(real, data, allowed, offset);
    if (rc != SQLITE_OK) return rc;
    std::lock_guard lock(s.mutex);
    s.counters.bytes_written += allowed;
  }
  return error;
}

int f_truncate(sqlite3_file* f, sqlite3_int64 size) {
  State& s = state();
  {
    std::lock_guard lock(s.mutex);
    if (plan_applies(s, reinterpret_cast<FaultyFile*>(f)) && s.plan.truncates_left >= 0) {
      if (s.plan.truncates_left == 0) {
        ++s.counters.failures;
        return SQLITE_IOERR_TRUNCATE;
      }
      --s.plan.truncates_left;
    }
  }
  sqlite3_file* real = real_of(f);
  return real->pMethods->xTruncate(real, size);
}

int f_sync(sqlite3_file* f, int flags) {
  State& s = state();
  {
    std::lock_guard lock(s.mutex);
    ++s.counters.syncs;
    if (plan_applies(s, reinterpret_cast<FaultyFile*>(f)) && s.plan.syncs_left >= 0) {
      if (s.plan.syncs_left == 0) {
        ++s.counters.failures;
        return SQLITE_IOERR_FSYNC;
      }
      --s.plan.syncs_left;
    }
  }
  sqlite3_file* real = real_of(f);
  return real->pMethods->xSync(real, flags);
}

int f_file_size(sqlite3_file* f, sqlite3_int64* size) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xFileSize(real, size);
}
int f_lock(sqlite3_file* f, int level) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xLock(real, level);
}
int f_unlock(sqlite3_file* f, int level) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xUnlock(real, level);
}
int f_check_reserved_lock(sqlite3_file* f, int* out) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xCheckReservedLock(real, out);
}
int f_file_control(sqlite3_file* f, int op, void* arg) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xFileControl(real, op, arg);
}
int f_sector_size(sqlite3_file* f) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xSectorSize(real);
}
int f_device_characteristics(sqlite3_file* f) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xDeviceCharacteristics(real);
}
int f_shm_map(sqlite3_file* f, int page, int page_size, int extend, void volatile** out) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xShmMap(real, page, page_size, extend, out);
}
int f_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xShmLock(real, offset, n, flags);
}
void f_shm_barrier(sqlite3_file* f) {
  sqlite3_file* real = real_of(f);
  real->pMethods->xShmBarrier(real);
}
int f_shm_unmap(sqlite3_file* f, int delete_flag) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xShmUnmap(real, delete_flag);
}
int f_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xFetch(real, offset, amount, out);
}
int f_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  sqlite3_file* real = real_of(f);
  return real->pMethods->xUnfetch(real, offset, p);
}

// One method table per version the wrapped files can have: SQLite looks at iVersion before
// calling the shared-memory (2) and memory-map (3) methods, so the wrapper must not claim more
// than the real file supports.
sqlite3_io_methods make_methods(int version) {
  sqlite3_io_methods m{};
  m.iVersion = version;
  m.xClose = f_close;
  m.xRead = f_read;
  m.xWrite = f_write;
  m.xTruncate = f_truncate;
  m.xSync = f_sync;
  m.xFileSize = f_file_size;
  m.xLock = f_lock;
  m.xUnlock = f_unlock;
  m.xCheckReservedLock = f_check_reserved_lock;
  m.xFileControl = f_file_control;
  m.xSectorSize = f_sector_size;
  m.xDeviceCharacteristics = f_device_characteristics;
  if (version >= 2) {
    m.xShmMap = f_shm_map;
    m.xShmLock = f_shm_lock;
    m.xShmBarrier = f_shm_barrier;
    m.xShmUnmap = f_shm_unmap;
  }
  if (version >= 3) {
    m.xFetch = f_fetch;
    m.xUnfetch = f_unfetch;
  }
  return m;
}

const sqlite3_io_methods kMethods[3] = {make_methods(1), make_methods(2), make_methods(3)};

// ---- VFS methods ----

int v_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* f = reinterpret_cast<FaultyFile*>(file);
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(FaultyFile));
  f->name = name;
  f->base.pMethods = nullptr;
  const int rc = g_real->xOpen(g_real, name, f->real, flags, out_flags);
  if (f->real->pMethods != nullptr) {
    const int version = f->real->pMethods->iVersion;
    f->base.pMethods = &kMethods[(version < 1 ? 1 : version > 3 ? 3 : version) - 1];
  }
  return rc;
}

int v_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_real->xDelete(g_real, name, sync_dir);
}
int v_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int v_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* v_dl_open(sqlite3_vfs*, const char* name) {
  return g_real->xDlOpen(g_real, name);
}
void v_dl_error(sqlite3_vfs*, int n, char* out) {
  g_real->xDlError(g_real, n, out);
}
void (*v_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_real->xDlSym(g_real, handle, symbol);
}
void v_dl_close(sqlite3_vfs*, void* handle) {
  g_real->xDlClose(g_real, handle);
}
int v_randomness(sqlite3_vfs*, int n, char* out) {
  return g_real->xRandomness(g_real, n, out);
}
int v_sleep(sqlite3_vfs*, int microseconds) {
  return g_real->xSleep(g_real, microseconds);
}
int v_current_time(sqlite3_vfs*, double* out) {
  return g_real->xCurrentTime(g_real, out);
}
int v_get_last_error(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError(g_real, n, out);
}
int v_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_real->xCurrentTimeInt64(g_real, out);
}
int v_set_system_call(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr call) {
  return g_real->xSetSystemCall(g_real, name, call);
}
sqlite3_syscall_ptr v_get_system_call(sqlite3_vfs*, const char* name) {
  return g_real->xGetSystemCall(g_real, name);
}
const char* v_next_system_call(sqlite3_vfs*, const char* name) {
  return g_real->xNextSystemCall(g_real, name);
}

sqlite3_vfs g_vfs{};

}  // namespace

FaultyVfs& FaultyVfs::install() {
  static FaultyVfs* instance = [] {
    g_real = sqlite3_vfs_find(nullptr);
    if (g_real == nullptr) throw std::runtime_error("SQLite has no default VFS");
    g_vfs.iVersion = g_real->iVersion < 3 ? g_real->iVersion : 3;
    g_vfs.szOsFile = static_cast<int>(sizeof(FaultyFile)) + g_real->szOsFile;
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = kVfsName;
    g_vfs.xOpen = v_open;
    g_vfs.xDelete = v_delete;
    g_vfs.xAccess = v_access;
    g_vfs.xFullPathname = v_full_pathname;
    g_vfs.xDlOpen = v_dl_open;
    g_vfs.xDlError = v_dl_error;
    g_vfs.xDlSym = v_dl_sym;
    g_vfs.xDlClose = v_dl_close;
    g_vfs.xRandomness = v_randomness;
    g_vfs.xSleep = v_sleep;
    g_vfs.xCurrentTime = v_current_time;
    g_vfs.xGetLastError = v_get_last_error;
    if (g_vfs.iVersion >= 2) g_vfs.xCurrentTimeInt64 = v_current_time_int64;
    if (g_vfs.iVersion >= 3) {
      g_vfs.xSetSystemCall = v_set_system_call;
      g_vfs.xGetSystemCall = v_get_system_call;
      g_vfs.xNextSystemCall = v_next_system_call;
    }
    if (sqlite3_vfs_register(&g_vfs, /*makeDflt=*/1) != SQLITE_OK)
      throw std::runtime_error("sqlite3_vfs_register failed");
    return new FaultyVfs();
  }();
  return *instance;
}

const char* FaultyVfs::name() noexcept {
  return kVfsName;
}

void FaultyVfs::arm(const VfsFaultPlan& plan) {
  std::lock_guard lock(state().mutex);
  state().plan = plan;
  state().armed = true;
}

void FaultyVfs::disarm() {
  std::lock_guard lock(state().mutex);
  state().armed = false;
  state().plan = {};
}

bool FaultyVfs::armed() const {
  std::lock_guard lock(state().mutex);
  return state().armed;
}

VfsCounters FaultyVfs::counters() const {
  std::lock_guard lock(state().mutex);
  return state().counters;
}

}  // namespace ktune::testing
