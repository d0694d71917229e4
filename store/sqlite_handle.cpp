#include "store/sqlite_handle.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <utility>

namespace ktune::store {

namespace {
// SQLITE_TRANSIENT is an old-style cast in sqlite3.h; spelled here once without it.
const sqlite3_destructor_type kTransient = reinterpret_cast<sqlite3_destructor_type>(static_cast<std::intptr_t>(-1));

Errc classify(int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return Errc::corrupt;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM: return Errc::io;
    case SQLITE_CONSTRAINT: return Errc::conflict;
    default: return Errc::internal;
  }
}
}  // namespace

bool sqlite_ok(int rc) noexcept { return rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE; }

namespace {
Error sqlite_error_text(sqlite3* db, int rc, const char* call, const char* file, int line) {
  std::string message = "SQLite: ";
  message += (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (";
  message += call;
  message += " at ";
  message += file;
  message += ':';
  message += std::to_string(line);
  message += ')';
  return make_error(classify(rc), std::move(message));
}
}  // namespace

Error sqlite_error(sqlite3* db, int rc, const char* call, const char* file, int line) {
  Error error = sqlite_error_text(db, rc, call, file, line);
  // Name the file: "database or disk is full" alone does not say which disk, and the message
  // reaches users through the engine and the CLI ("tuning finished but the store could not be
  // written: ...").
  const char* name = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  if (name != nullptr && *name != '\0') {
    error.message = "store '" + std::string(name) + "': " + error.message;
    if (error.code == Errc::corrupt)
      error.message += "; the store is damaged (`ktune doctor --store " + std::string(name) + "` checks every page)";
  }
  return error;
}

// ---- Database ----

Database::~Database() {
  // sqlite3_close_v2 defers the close until statements are finalised, so order never matters.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}
Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

namespace {
// A file name as an SQLite URI path: the characters URIs give a meaning to are escaped.
std::string uri_path(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file:";
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}
}  // namespace

Result<Database> Database::open(const std::string& path, bool create, bool read_only, bool immutable) {
  int flags = SQLITE_OPEN_NOMUTEX;  // the Store serialises access to its connection itself
  flags |= read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (create && !read_only) flags |= SQLITE_OPEN_CREATE;
  const bool as_uri = read_only && immutable;
  if (as_uri) flags |= SQLITE_OPEN_URI;
  const std::string name = as_uri ? uri_path(path) + "?immutable=1" : path;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  Database db(raw);  // owns the handle even when open failed, as SQLite requires a close then
  if (rc != SQLITE_OK) {
    Error error = sqlite_error_text(raw, rc, "sqlite3_open_v2", __FILE__, __LINE__);
    error.message = "cannot open store '" + path + "': " + error.message;
    return error;
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Result<Statement> Database::prepare(std::string_view sql) const {
  sqlite3_stmt* stmt = nullptr;
  KTUNE_SQLITE(db_, sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                       &stmt, nullptr));
  return Statement(db_, stmt);
}

Status Database::exec(const char* sql) const {
  KTUNE_SQLITE(db_, sqlite3_exec(db_, sql, nullptr, nullptr, nullptr));
  return Ok{};
}

std::int64_t Database::changes() const noexcept { return sqlite3_changes64(db_); }

// ---- Statement ----

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}
Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}
Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Status Statement::bind(int index, std::string_view text) {
  KTUNE_SQLITE(db_, sqlite3_bind_text64(stmt_, index, text.data(), text.size(), kTransient, SQLITE_UTF8));
  return Ok{};
}
Status Statement::bind(int index, std::int64_t value) {
  KTUNE_SQLITE(db_, sqlite3_bind_int64(stmt_, index, value));
  return Ok{};
}
Status Statement::bind(int index, double value) {
  KTUNE_SQLITE(db_, sqlite3_bind_double(stmt_, index, value));
  return Ok{};
}
Status Statement::bind_null(int index) {
  KTUNE_SQLITE(db_, sqlite3_bind_null(stmt_, index));
  return Ok{};
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, rc, "sqlite3_step", __FILE__, __LINE__);
}

Status Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return Ok{};
  }
}

void Statement::reset() noexcept {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const noexcept { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
std::int64_t Statement::column_int(int column) const noexcept { return sqlite3_column_int64(stmt_, column); }
double Statement::column_double(int column) const noexcept { return sqlite3_column_double(stmt_, column); }
std::string Statement::column_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  const int bytes = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(bytes));
}
std::optional<std::int64_t> Statement::column_opt_int(int column) const noexcept {
  if (is_null(column)) return std::nullopt;
  return column_int(column);
}
std::optional<double> Statement::column_opt_double(int column) const noexcept {
  if (is_null(column)) return std::nullopt;
  return column_double(column);
}

// ---- Transaction ----

Result<Transaction> Transaction::begin(const Database& db) {
  KTUNE_SQLITE(db.get(), sqlite3_exec(db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr));
  return Transaction(db.get());
}
Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
Transaction::~Transaction() {
  if (db_ != nullptr) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}
Status Transaction::commit() {
  sqlite3* db = db_;
  KTUNE_SQLITE(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr));
  db_ = nullptr;
  return Ok{};
}

}  // namespace ktune::store
