// The store file: schema version and layout (golden), and refusing files that are not ours or
// are from a newer ktune without touching a byte of them.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/schema.hpp"
#include "store/store.hpp"
#include "tests/helpers/store_test_support.hpp"

namespace ktune::store {
namespace {

using testing::FileSnapshot;
using testing::ScratchDir;

// Reads one text/int value with the raw SQLite API, independent of the code under test.
std::string query_text(const std::filesystem::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      if (!out.empty()) out += "\n";
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out += text ? reinterpret_cast<const char*>(text) : "NULL";
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

void make_raw_database(const std::filesystem::path& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// Golden: changing the schema must bump kSchemaVersion and add a migration; this text changes
// only together with them.
constexpr const char* kGoldenSchemaV3 = R"(CREATE TABLE best (
  tuning_key      TEXT PRIMARY KEY NOT NULL REFERENCES tunings(tuning_key),
  config          TEXT NOT NULL,
  time_ns         REAL NOT NULL CHECK (time_ns > 0),
  default_time_ns REAL CHECK (default_time_ns IS NULL OR default_time_ns > 0),
  strategy        TEXT NOT NULL,
  evaluations     INTEGER NOT NULL CHECK (evaluations >= 0),
  wall_seconds    REAL NOT NULL CHECK (wall_seconds >= 0),
  tuned_at        INTEGER NOT NULL,
  ktune_version   TEXT NOT NULL
) STRICT
CREATE TABLE kernels (
  kernel_key  TEXT PRIMARY KEY NOT NULL,
  name        TEXT NOT NULL,
  kernel_json TEXT NOT NULL
) STRICT
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
  ktune_version   TEXT NOT NULL, measurement_key TEXT, verification TEXT NOT NULL DEFAULT 'unrecorded', stage_median_ns TEXT,
  CHECK (status <> 'ok' OR median_ns IS NOT NULL)
) STRICT
CREATE INDEX measurements_by_measurement_key ON measurements(measurement_key, config)
CREATE INDEX measurements_by_tuning ON measurements(tuning_key, config)
CREATE TABLE tunings (
  tuning_key TEXT PRIMARY KEY NOT NULL,
  kernel_key TEXT NOT NULL REFERENCES kernels(kernel_key),
  sizes      TEXT NOT NULL,
  device     TEXT NOT NULL,
  arch       TEXT NOT NULL,
  toolchain  TEXT NOT NULL
) STRICT
CREATE INDEX tunings_by_kernel ON tunings(kernel_key, arch, device))";

TEST(StoreSchema, NewStoreHasVersionedGoldenSchemaInWalMode) {
  ScratchDir dir;
  const auto path = dir / "nested" / "ktune.db";  // the folder is created too
  { auto store = Store::open(path).value_or_throw(); }
  EXPECT_EQ(kSchemaVersion, 3);
  EXPECT_EQ(query_text(path, "PRAGMA user_version"), "3");
  EXPECT_EQ(query_text(path, "PRAGMA application_id"), std::to_string(kApplicationId));
  EXPECT_EQ(query_text(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text(path, "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name"), kGoldenSchemaV3);
}

TEST(StoreSchema, ReopeningKeepsDataAndSchema) {
  ScratchDir dir;
  const auto path = dir / "ktune.db";
  const auto kernel = testing::make_kernel("k");
  {
    auto store = Store::open(path).value_or_throw();
    ASSERT_TRUE(store.put_kernel(kernel).ok());
  }
  auto store = Store::open(path).value_or_throw();
  auto found = store.kernel(kernel.kernel_key).value_or_throw();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, kernel);
  EXPECT_EQ(query_text(path, "PRAGMA user_version"), "3");
}

TEST(StoreSchema, FileThatIsNotADatabaseIsRefusedUntouched) {
  ScratchDir dir;
  const auto path = dir / "ktune.db";
  std::string junk = "this is a lookup table, not a database\n";
  for (int i = 0; i < 200; ++i) junk += "0123456789abcdef";
  testing::write_file(path, junk);
  const auto before = FileSnapshot::of(path);
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::corrupt);
  EXPECT_NE(store.error().message.find("not a ktune store"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find(path.string()), std::string::npos) << store.error().message;
  EXPECT_EQ(FileSnapshot::of(path), before);
}

TEST(StoreSchema, NewerSchemaVersionIsRefusedUntouched) {
  ScratchDir dir;
  const auto path = dir / "ktune.db";
  make_raw_database(path, ("PRAGMA application_id=" + std::to_string(kApplicationId) +
                           "; PRAGMA user_version=4; CREATE TABLE future_table (x INTEGER);")
                              .c_str());
  const auto before = FileSnapshot::of(path);
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::unsupported);
  EXPECT_NE(store.error().message.find("schema version 4"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
  EXPECT_EQ(FileSnapshot::of(path), before);
  EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal"));
}

TEST(StoreSchema, AnotherApplicationsDatabaseIsRefusedUntouched) {
  ScratchDir dir;
  const auto path = dir / "other.db";
  make_raw_database(path, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'x');");
  const auto before = FileSnapshot::of(path);
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::corrupt);
  EXPECT_EQ(FileSnapshot::of(path), before);
}

TEST(StoreSchema, MigrationsLeadToTheCurrentVersion) {
  // Published migrations are append-only and contiguous, ending at kSchemaVersion.
  int expected = 1;
  for (const Migration& m : migrations()) EXPECT_EQ(m.to_version, expected++);
  EXPECT_EQ(expected - 1, kSchemaVersion);
}

TEST(StoreSchema, ReadOnlyOpenOfMissingFileFailsWithoutCreatingIt) {
  ScratchDir dir;
  const auto path = dir / "absent.db";
  StoreOptions options;
  options.read_only = true;
  auto store = Store::open(path, options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::io);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace ktune::store
