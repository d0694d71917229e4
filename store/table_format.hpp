#pragma once
// The exported lookup table: a versioned JSON document (docs/lookup-table.md), what `ktune export`
// writes and `ktune import` reads. Writing is canonical (fixed field order, sorted kernels and
// entries, 2-space indent, trailing newline), so export -> import -> export is byte-identical and
// tables diff cleanly. Reading is strict: wrong version, missing or unknown fields, wrong types,
// bad keys, duplicates and dangling kernel references are errors naming the entry.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.hpp"
#include "store/records.hpp"

namespace ktune::store {

inline constexpr std::string_view kTableFormatName = "ktune-lookup-table";
inline constexpr int kTableFormatVersion = 1;

struct LookupTable {
  std::vector<KernelRecord> kernels;  // every kernel some entry refers to
  std::vector<BestRecord> entries;
  friend bool operator==(const LookupTable&, const LookupTable&) = default;
};

// Kernels by (name, key); entries by (kernel name, kernel key, device, toolchain, sizes in
// numeric order, tuning key).
void sort_canonical(LookupTable& table);

// What a table must be before it reaches a store, whether parsed from a file or built in code:
// every record valid, no kernel key or tuning key twice, every entry's kernel among the table's
// kernels. Errors name the record ("entries[3] (tuning_key ...): ...").
Status check_table(const LookupTable& table);

std::string table_to_json(const LookupTable& table);
Result<LookupTable> table_from_json(std::string_view text);

// "2026-11-22T10:15:00Z" <-> Unix seconds. Parsing accepts exactly this form.
std::string format_utc(std::int64_t unix_seconds);
Result<std::int64_t> parse_utc(std::string_view text);

}  // namespace ktune::store
