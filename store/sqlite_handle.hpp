#pragma once
// Move-only RAII owners for sqlite3* and sqlite3_stmt*, and the one error family that turns a failed
// SQLite call into an Error naming the call, the file and line, and SQLite's own message.
// Only prepared statements with bound parameters reach SQLite: no SQL text is ever built from data.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/common/result.hpp"
#include "store/try.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace ktune::store {

// Builds the Error for a failed call `call` (its source text) that returned `rc` on `db`.
Error sqlite_error(sqlite3* db, int rc, const char* call, const char* file, int line);

// Evaluates `call` (an expression returning an SQLite result code); on anything but SQLITE_OK,
// SQLITE_ROW or SQLITE_DONE returns the Error from the enclosing function (Status or Result<T>).
#define KTUNE_SQLITE(db, call)                                                                  \
  do {                                                                                          \
    const int ktune_sqlite_rc_ = (call);                                                        \
    if (!::ktune::store::sqlite_ok(ktune_sqlite_rc_))                                           \
      return ::ktune::store::sqlite_error((db), ktune_sqlite_rc_, #call, __FILE__, __LINE__);   \
  } while (0)

bool sqlite_ok(int rc) noexcept;

class Statement;

class Database {
 public:
  Database() = default;
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens (creating it if `create`) the database file. No byte of the file is read or written here.
  // `immutable` (read-only opens only) tells SQLite the file cannot change while open: no locks,
  // no -shm or -wal file is created, so a store on read-only media or in a read-only folder opens.
  static Result<Database> open(const std::string& path, bool create, bool read_only, bool immutable = false);

  sqlite3* get() const noexcept { return db_; }
  Result<Statement> prepare(std::string_view sql) const;
  // For fixed DDL and pragmas only (never data): runs every statement in `sql`.
  Status exec(const char* sql) const;
  std::int64_t changes() const noexcept;

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite. Text is copied (SQLITE_TRANSIENT) so callers may pass
  // temporaries.
  Status bind(int index, std::string_view text);
  Status bind(int index, std::int64_t value);
  Status bind(int index, double value);
  Status bind_null(int index);
  template <class T>
  Status bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // true: a row is available; false: done.
  Result<bool> step();
  // Steps to completion, for statements that return no rows.
  Status run();
  // Clears bindings and rewinds, so a cached statement can be reused.
  void reset() noexcept;

  bool is_null(int column) const noexcept;
  std::int64_t column_int(int column) const noexcept;
  double column_double(int column) const noexcept;
  std::string column_text(int column) const;
  std::optional<std::int64_t> column_opt_int(int column) const noexcept;
  std::optional<double> column_opt_double(int column) const noexcept;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a cached statement when the scope ends, whatever path leaves it: a statement left
// mid-step would hold a read snapshot open and block WAL checkpoints.
class StatementReset {
 public:
  explicit StatementReset(Statement& stmt) noexcept : stmt_(stmt) {}
  ~StatementReset() { stmt_.reset(); }
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

 private:
  Statement& stmt_;
};

// A write transaction. BEGIN IMMEDIATE takes the write lock up front, so the busy timeout applies
// to it; a deferred transaction upgrading from read to write can fail with SQLITE_BUSY at once.
// Rolls back unless commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(const Database& db);
  ~Transaction();
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace ktune::store
