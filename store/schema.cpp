#include "store/schema.hpp"

#include "store/migrate_measurement_keys.hpp"

#include <sqlite3.h>

#include <array>
#include <optional>
#include <chrono>
#include <thread>

namespace ktune::store {

namespace {

// Version 1. Sizes and configurations are stored in their human form "M=4096 N=4096 K=4096"
// (engine/common/named_values.hpp), in spec order. Kernel times are nanoseconds; host-side
// durations (compile, tuning wall time) are seconds; timestamps are Unix seconds (UTC).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE kernels (
  kernel_key  TEXT PRIMARY KEY NOT NULL,
  name        TEXT NOT NULL,
  kernel_json TEXT NOT NULL
) STRICT;
CREATE TABLE tunings (
  tuning_key TEXT PRIMARY KEY NOT NULL,
  kernel_key TEXT NOT NULL REFERENCES kernels(kernel_key),
  sizes      TEXT NOT NULL,
  device     TEXT NOT NULL,
  arch       TEXT NOT NULL,
  toolchain  TEXT NOT NULL
) STRICT;
CREATE INDEX tunings_by_kernel ON tunings(kernel_key, arch, device);
CREATE TABLE measurements (
  id              INTEGER PRIMARY KEY,
  tuning_key      TEXT NOT NULL REFERENCES tunings(tuning_key),
  config          TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('ok', 'compile_error', 'invalid_config', 'launch_error',
                                                  'wrong_result', 'timeout', 'crash', 'pruned')),
  median_ns       REAL,
  min_ns          REAL,
  mean_ns         REAL,
  stddev_ns       REAL,
  samples         INTEGER,
  timer           TEXT,
  registers       INTEGER,
  shared_bytes    INTEGER,
  compile_seconds REAL,
  message         TEXT NOT NULL,
  measured_at     INTEGER NOT NULL,
  ktune_version   TEXT NOT NULL,
  CHECK (status <> 'ok' OR median_ns IS NOT NULL)
) STRICT;
CREATE INDEX measurements_by_tuning ON measurements(tuning_key, config);
CREATE TABLE best (
  tuning_key      TEXT PRIMARY KEY NOT NULL REFERENCES tunings(tuning_key),
  config          TEXT NOT NULL,
  time_ns         REAL NOT NULL CHECK (time_ns > 0),
  default_time_ns REAL CHECK (default_time_ns IS NULL OR default_time_ns > 0),
  strategy        TEXT NOT NULL,
  evaluations     INTEGER NOT NULL CHECK (evaluations >= 0),
  wall_seconds    REAL NOT NULL CHECK (wall_seconds >= 0),
  tuned_at        INTEGER NOT NULL,
  ktune_version   TEXT NOT NULL
) STRICT;
)sql";

// Version 2 (issue #14): measurements are found by what determines them, not by the space they
// were chosen from. `measurement_key` (store/measurement_identity.hpp) is NULL only for a row whose
// key could not be computed by the migration (store/migrate_measurement_keys.hpp); `verification`
// says what the outputs were checked against ('none', 'unrecorded' for version-1 rows that were
// verified, or the reference and tolerances). `tuning_key` stays: which tuning measured the row.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE measurements ADD COLUMN measurement_key TEXT;
ALTER TABLE measurements ADD COLUMN verification TEXT NOT NULL DEFAULT 'unrecorded';
CREATE INDEX measurements_by_measurement_key ON measurements(measurement_key, config);
)sql";

// Version 3 (issue #16): a pipeline's measurement keeps each kernel's median time, as a JSON
// array of numbers in launch order; NULL for a single kernel (every row before it).
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE measurements ADD COLUMN stage_median_ns TEXT;
)sql";

constexpr std::array kMigrations{Migration{1, kSchemaV1}, Migration{2, kSchemaV2, migrate_measurement_keys},
                                 Migration{3, kSchemaV3}};

Result<std::int64_t> pragma_int(const Database& db, const char* sql) {
  auto stmt = db.prepare(sql);
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return *row ? stmt->column_int(0) : 0;
}

Error not_a_store(const std::string& path, const std::string& why) {
  return make_error(Errc::corrupt, "'" + path + "' is not a ktune store: " + why + "; the file was left untouched");
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

Result<int> schema_version(const Database& db) {
  auto version = pragma_int(db, "PRAGMA user_version");
  if (!version) return version.error();
  return static_cast<int>(*version);
}

Status prepare_schema(const Database& db, const std::string& path, bool read_only) {
  // Reads only until the file is known to be ours and of a version we understand. The three
  // reads share one snapshot: another process creating the store may commit between separate
  // reads, and a mixed view (its schema, but not yet its application id) looks like a foreign file.
  if (auto begin = db.exec("BEGIN"); !begin) {
    if (begin.error().code == Errc::corrupt) return not_a_store(path, "not an SQLite database");
    return begin.error();
  }
  struct EndRead {
    const Database& db;
    ~EndRead() { (void)db.exec("COMMIT"); }
  };
  std::optional<EndRead> end_read{EndRead{db}};
  auto app_id = pragma_int(db, "PRAGMA application_id");
  if (!app_id) {
    if (app_id.error().code == Errc::corrupt) return not_a_store(path, "not an SQLite database");
    return app_id.error();
  }
  auto version = pragma_int(db, "PRAGMA user_version");
  if (!version) return version.error();
  auto objects = pragma_int(db, "SELECT count(*) FROM sqlite_schema");
  if (!objects) return objects.error();

  end_read.reset();
  const bool empty = *app_id == 0 && *version == 0 && *objects == 0;
  if (!empty && *app_id == 0) {
    // Content without our application id: another application's database, or ours while another
    // process is still creating it (seen with 8 processes opening a new store at once). A write
    // lock waits for any creator to commit; what is there then is the truth.
    for (int attempt = 0; attempt < 50 && *app_id == 0; ++attempt) {
      if (!read_only) {
        auto txn = Transaction::begin(db);
        if (!txn) return txn.error();
        app_id = pragma_int(db, "PRAGMA application_id");
        if (!app_id) return app_id.error();
        (void)txn->commit();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      app_id = pragma_int(db, "PRAGMA application_id");
      if (!app_id) return app_id.error();
    }
    version = pragma_int(db, "PRAGMA user_version");
    if (!version) return version.error();
  }
  if (!empty && *app_id != kApplicationId)
    return not_a_store(path, "an SQLite database of another application (application_id " + std::to_string(*app_id) +
                                 ")");
  if (*version > kSchemaVersion)
    return make_error(Errc::unsupported, "store '" + path + "' has schema version " + std::to_string(*version) +
                                             ", newer than this ktune understands (" +
                                             std::to_string(kSchemaVersion) +
                                             "); use a newer ktune. The file was left untouched");
  if (read_only) {
    if (*version < 1)
      return make_error(Errc::unsupported, "store '" + path + "' has schema version " + std::to_string(*version) +
                                               " and needs a migration, which a read-only open cannot do");
    return Ok{};  // an older version is migrated in a copy (migrate_copy_in_memory)
  }

  // WAL lets readers proceed while one writer commits; it is persistent, so this is a no-op after
  // the first open. When several processes create a store at once, the switch can fail with
  // SQLITE_BUSY without SQLite calling the busy handler (seen with 8 writers on 2 cores), so it
  // is retried here within the same 60 s a busy timeout would allow.
  {
    std::string mode;
    int rc = SQLITE_OK;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      mode.clear();
      rc = sqlite3_exec(
          db.get(), "PRAGMA journal_mode=WAL",
          [](void* out, int columns, char** values, char**) {
            if (columns > 0 && values[0]) *static_cast<std::string*>(out) = values[0];
            return 0;
          },
          &mode, nullptr);
      if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    if (rc != SQLITE_OK)
      return make_error(Errc::io, "store '" + path + "': cannot switch to WAL mode: " + sqlite3_errstr(rc));
    if (mode != "wal")
      return make_error(Errc::io, "store '" + path + "': the file system does not support SQLite WAL mode");
  }
  if (*version == kSchemaVersion) return Ok{};

  return migrate(db, path);
}

Status migrate(const Database& db, const std::string& path) {
  auto txn = Transaction::begin(db);
  if (!txn) return txn.error();
  // Another process may have migrated between our read and taking the write lock.
  auto current = pragma_int(db, "PRAGMA user_version");
  if (!current) return current.error();
  if (*current > kSchemaVersion)
    return make_error(Errc::unsupported, "store '" + path + "' was upgraded to a newer schema by another ktune");
  if (*current == kSchemaVersion) return Ok{};
  for (const Migration& migration : kMigrations) {
    if (migration.to_version <= *current) continue;
    KTUNE_TRY(db.exec(migration.sql));
    if (migration.rewrite) KTUNE_TRY(migration.rewrite(db));
  }
  // PRAGMA arguments cannot be bound; both values are compile-time constants, not data.
  const std::string stamp = "PRAGMA application_id=" + std::to_string(kApplicationId) +
                            "; PRAGMA user_version=" + std::to_string(kSchemaVersion);
  KTUNE_TRY(db.exec(stamp.c_str()));
  return txn->commit();
}

Result<Database> migrate_copy_in_memory(const Database& file, const std::string& path) {
  auto memory = Database::open(":memory:", /*create=*/true, /*read_only=*/false);
  if (!memory) return memory.error();
  sqlite3_backup* backup = sqlite3_backup_init(memory->get(), "main", file.get(), "main");
  if (!backup) return sqlite_error(memory->get(), sqlite3_errcode(memory->get()), "sqlite3_backup_init", __FILE__, __LINE__);
  const int stepped = sqlite3_backup_step(backup, -1);
  const int finished = sqlite3_backup_finish(backup);
  if (stepped != SQLITE_DONE) return sqlite_error(file.get(), stepped, "sqlite3_backup_step", __FILE__, __LINE__);
  KTUNE_SQLITE(memory->get(), finished);
  KTUNE_TRY(migrate(*memory, path));
  return std::move(*memory);
}
}  // namespace ktune::store
