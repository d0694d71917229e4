#pragma once
// A test-only SQLite VFS that wraps the process's default one (unix) and, when armed, makes
// writes, syncs or truncations fail the way a full or failing disk does: SQLITE_FULL, or
// SQLITE_IOERR_WRITE / _FSYNC / _TRUNCATE. install() registers it as the default VFS, so every
// database opened afterwards in this process goes through it — the product code (Store::open uses
// sqlite3_open_v2 with the default VFS) is unchanged. Disarmed, every call passes straight through.
//
//   auto& vfs = ktune::testing::FaultyVfs::install();   // before opening the store
//   vfs.arm({.write_bytes_left = 8192});                 // the disk fills up after 8 KiB more
//   ... the write fails with SQLITE_FULL ...
//   vfs.disarm();                                        // space was freed
//
// A write that crosses the byte budget writes the part that fits and then fails, as write(2)
// does on a full disk (SQLite sees a short write), so torn pages are part of what is tested.
// Thread-safe: SQLite may call it from any thread.
#include <cstdint>
#include <string>

namespace ktune::testing {

struct VfsFaultPlan {
  // What a failing write returns: SQLITE_FULL (disk full) when true, SQLITE_IOERR_WRITE otherwise.
  bool disk_full = true;
  // Budgets, counted from arm(); -1 means that operation never fails.
  std::int64_t write_bytes_left = -1;  // xWrite succeeds for this many more bytes, then fails
  std::int64_t writes_left = -1;       // xWrite succeeds this many more calls, then fails
  std::int64_t syncs_left = -1;        // xSync succeeds this many more calls, then SQLITE_IOERR_FSYNC
  std::int64_t truncates_left = -1;    // xTruncate: this many more, then SQLITE_IOERR_TRUNCATE
  // Only files whose name ends with this ("-wal", "-journal", "store.db") are affected; empty: all.
  std::string only_files_ending_with{};
};

struct VfsCounters {
  std::int64_t writes = 0;         // xWrite calls (all files, armed or not)
  std::int64_t bytes_written = 0;  // bytes that reached the real file
  std::int64_t syncs = 0;
  std::int64_t failures = 0;  // calls that the armed plan made fail
};

class FaultyVfs {
 public:
  // Registers the VFS as the process default the first time; later calls return the same one.
  static FaultyVfs& install();
  // The name it is registered under, for sqlite3_vfs_find() checks in tests.
  static const char* name() noexcept;

  void arm(const VfsFaultPlan& plan);
  void disarm();
  bool armed() const;
  VfsCounters counters() const;

 private:
  FaultyVfs() = default;
};

}  // namespace ktune::testing
