// Fuzz target: the exported lookup table (store/table_format.hpp, docs/lookup-table.md), what
// `ktune import` reads from a file someone hands over, and its import into a real SQLite store.
//
// Checked beyond "no crash, no UB, no huge allocation":
//   - a table that parses survives table_to_json -> table_from_json unchanged, and its canonical
//     text is a fixed point (export -> import -> export is byte-identical);
//   - it imports into an empty store (the file checks and the import checks agree), every entry
//     and kernel counted as added; the store exports it back exactly (in canonical order, with the
//     kernels the entries use); importing it again changes nothing, under every conflict policy.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "store/store.hpp"
#include "store/table_format.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace ktune::store;

namespace {

// One folder per process for the stores, in memory where there is a /dev/shm.
std::filesystem::path make_scratch_folder() {
  std::error_code ec;
  const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm")
                                                                                 : std::filesystem::temp_directory_path();
  std::string name = (base / "ktune-fuzz-table-XXXXXX").string();
  if (mkdtemp(name.data()) == nullptr) ktune::fuzz::property_failed("mkdtemp succeeds", __FILE__, __LINE__);
  return name;
}

const std::filesystem::path& scratch_folder();

void remove_scratch_folder() {
  std::error_code ignored;
  std::filesystem::remove_all(scratch_folder(), ignored);
}

const std::filesystem::path& scratch_folder() {
  static const std::filesystem::path folder = make_scratch_folder();
  // Registered after `folder` is built, so it runs before `folder` is destroyed.
  [[maybe_unused]] static const int cleanup = std::atexit(remove_scratch_folder);
  return folder;
}

LookupTable exported_form(LookupTable table) {
  std::erase_if(table.kernels, [&](const KernelRecord& k) {
    return std::none_of(table.entries.begin(), table.entries.end(),
                        [&](const BestRecord& e) { return e.tuning.kernel_key == k.kernel_key; });
  });
  sort_canonical(table);
  return table;
}

void check_import(const LookupTable& table, std::uint8_t policy_byte) {
  const std::filesystem::path db = scratch_folder() / "store.db";
  {
    auto store = Store::open(db);
    KTUNE_FUZZ_CHECK(store.ok());
    auto summary = store->import_table(table, {ConflictPolicy::fail});
    KTUNE_FUZZ_CHECK(summary.ok());
    KTUNE_FUZZ_CHECK(summary->kernels_added == table.kernels.size());
    KTUNE_FUZZ_CHECK(summary->entries_added == table.entries.size());

    auto exported = store->export_table();
    KTUNE_FUZZ_CHECK(exported.ok());
    KTUNE_FUZZ_CHECK(*exported == exported_form(table));

    const auto policy = static_cast<ConflictPolicy>(policy_byte % 4);
    auto again = store->import_table(table, {policy});
    KTUNE_FUZZ_CHECK(again.ok());
    KTUNE_FUZZ_CHECK(again->kernels_added == 0 && again->entries_added == 0);
    KTUNE_FUZZ_CHECK(again->entries_unchanged == table.entries.size());
  }
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(db.string() + suffix, ec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ktune::fuzz::as_text(data, size);
  auto table = table_from_json(text);
  if (!table) {
    ktune::fuzz::note(table.error().message);
    KTUNE_FUZZ_CHECK(!table.error().message.empty());
    return 0;
  }

  const std::string json = table_to_json(*table);
  auto reread = table_from_json(json);
  KTUNE_FUZZ_CHECK(reread.ok());
  KTUNE_FUZZ_CHECK(*reread == *table);

  LookupTable canonical = *table;
  sort_canonical(canonical);
  const std::string canonical_json = table_to_json(canonical);
  auto canonical_reread = table_from_json(canonical_json);
  KTUNE_FUZZ_CHECK(canonical_reread.ok());
  KTUNE_FUZZ_CHECK(table_to_json(*canonical_reread) == canonical_json);

  check_import(*table, size > 0 ? data[size - 1] : 0);
  return 0;
}
