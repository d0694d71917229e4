#pragma once
// Is a store file intact? Two checks of different cost (issue 14, "Unavailable"):
//
//   cheap (every open, Store::open): the 100-byte SQLite header — magic, page size, file format,
//   payload fractions — and the file's size against it: a whole number of pages, and (when no
//   -wal or hot journal says the file is mid-update) exactly the page count the header records.
//   Catches truncation, a damaged or foreign header, a file cut short by a full disk. Reads 100
//   bytes and one stat, then one byte of each table's and index's root page; its cost does not
//   grow with the number of entries (store/bench/bench_store_open_check).
//
//   full (`ktune doctor --store`): PRAGMA integrity_check, every page and index of the file; about
//   a second per 60 MB, so only on request.
//
// Damage the cheap check cannot see (a flipped bit inside a data page) still cannot be served
// silently where SQLite reads it: a malformed page is SQLITE_CORRUPT, which the store reports as
// Errc::corrupt naming the file and `ktune doctor --store`.
#include <filesystem>
#include <string>
#include <vector>

#include "engine/common/result.hpp"
#include "store/sqlite_handle.hpp"

namespace ktune::store {

// Errc::corrupt naming the file and what is wrong; Ok for a missing or empty file (nothing yet).
Status check_store_header(const std::filesystem::path& path);

// The cheap check's second half, once the schema is readable: the root page of every table and
// index has a b-tree page type (one 1-byte read each), so a damaged index that no query of the
// command would touch is still noticed. Skipped while a -wal or hot journal holds newer pages.
Status check_root_pages(const Database& db, const std::filesystem::path& path);

// PRAGMA integrity_check on an open store: the problems SQLite lists (empty: intact).
Result<std::vector<std::string>> check_store_pages(const Database& db);

}  // namespace ktune::store
