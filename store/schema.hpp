#pragma once
// The store's SQLite schema, its version, and the path from any older version to this one.
//
// The version lives in `PRAGMA user_version`; `PRAGMA application_id` marks the file as a ktune
// store so ktune never writes into somebody else's database. Changing the schema means appending a
// Migration (never editing a published one) and bumping kSchemaVersion; the golden test in
// tests/test_store_schema.cpp pins the resulting schema text.
#include <cstdint>
#include <span>
#include <string>

#include "engine/common/result.hpp"
#include "store/sqlite_handle.hpp"

namespace ktune::store {

inline constexpr int kSchemaVersion = 3;
inline constexpr std::int32_t kApplicationId = 0x6b74756e;  // "ktun"

struct Migration {
  int to_version;   // applying `sql`, then `rewrite`, to a store at to_version - 1 gives to_version
  const char* sql;  // fixed DDL, run inside the migration transaction
  // Data the DDL cannot compute (version 2: measurement keys from the stored kernel forms); runs
  // in the same transaction, so a failure leaves the file as it was.
  Status (*rewrite)(const Database& db) = nullptr;
};

std::span<const Migration> migrations();

// Validates an opened store and brings it to kSchemaVersion. Reads first and writes nothing when
// the file is not an SQLite database, not a ktune store, or from a newer schema: those are errors
// that leave the file byte-for-byte unchanged. A read-only open never writes: an older store opened
// read-only is accepted here, and the caller migrates an in-memory copy (migrate_copy_in_memory).
Status prepare_schema(const Database& db, const std::string& path, bool read_only);

// Applies every migration above the database's version, in one transaction: all of them or none.
Status migrate(const Database& db, const std::string& path);

// A migrated in-memory copy of a read-only store of an older schema, so a table or recording on
// read-only media (or a test fixture) is read with today's statements and never changed.
Result<Database> migrate_copy_in_memory(const Database& file, const std::string& path);

// The schema version recorded in an open database (PRAGMA user_version).
Result<int> schema_version(const Database& db);

}  // namespace ktune::store
