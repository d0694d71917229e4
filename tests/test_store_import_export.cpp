// The exported lookup table: golden format (the fixture), round trip, filters, conflict policies,
// all-or-nothing import of bad files, and the `ktune show|export|import` commands.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

#include "store/store.hpp"
#include "store/table_format.hpp"
#include "tests/helpers/store_test_support.hpp"

namespace ktune::store {
namespace {

using testing::make_best;
using testing::make_kernel;
using testing::make_tuning;
using testing::read_file;
using testing::ScratchDir;

const std::filesystem::path kFixture = std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/data/sgemm-table.json";

Store fresh(const ScratchDir& dir, const std::string& name = "ktune.db") {
  return Store::open(dir / name).value_or_throw();
}

LookupTable fixture() { return table_from_json(read_file(kFixture)).value_or_throw(); }

TEST(StoreTable, FixtureImportsAndExportsByteIdentical) {
  // Golden for the export format: the fixture is in canonical form, so it must come back exactly.
  ScratchDir dir;
  auto store = fresh(dir);
  auto summary = store.import_table(fixture()).value_or_throw();
  EXPECT_EQ(summary.kernels_added, 1u);
  EXPECT_EQ(summary.entries_added, 6u);
  EXPECT_EQ(table_to_json(store.export_table().value_or_throw()), read_file(kFixture));
}

TEST(StoreTable, ExportImportExportRoundTrip) {
  ScratchDir dir;
  auto source = fresh(dir, "a.db");
  const auto k1 = make_kernel("zeta_kernel"), k2 = make_kernel("alpha_kernel");
  ASSERT_TRUE(source.put_kernel(k1).ok());
  ASSERT_TRUE(source.put_kernel(k2).ok());
  auto b1 = make_best(make_tuning(k1, {{"N", 1 << 20}}, "NVIDIA H100 80GB HBM3"), {{"BLOCK", 256}}, 45213.123456789);
  b1.default_time_ns.reset();  // default did not run
  auto b2 = make_best(make_tuning(k2, {{"M", 8192}, {"K", 3}}, "NVIDIA H100 PCIe"), {{"X", -1}, {"A", 7}}, 0.1 + 0.2);
  auto b3 = make_best(make_tuning(k2, {{"M", 16}, {"K", 3}}, "NVIDIA H100 PCIe"), {{"X", 0}, {"A", 1}}, 1e-3, 0);
  for (const auto& b : {b1, b2, b3}) ASSERT_TRUE(source.put_best(b).ok());

  const auto first = source.export_table().value_or_throw();
  const std::string text = table_to_json(first);
  auto target = fresh(dir, "b.db");
  ASSERT_TRUE(target.import_table(table_from_json(text).value_or_throw()).ok());
  const auto second = target.export_table().value_or_throw();
  EXPECT_EQ(second, first);
  EXPECT_EQ(table_to_json(second), text);
  // Canonical order: kernels by name; config order is the spec's, not alphabetical.
  ASSERT_EQ(second.kernels.size(), 2u);
  EXPECT_EQ(second.kernels[0].name, "alpha_kernel");
  EXPECT_EQ(second.entries[0].tuning.sizes, (Sizes{{"M", 16}, {"K", 3}}));
  EXPECT_EQ(second.entries[1].config, (Config{{"X", -1}, {"A", 7}}));
}

TEST(StoreTable, ExportFiltersByKernelAndDevice) {
  ScratchDir dir;
  auto store = fresh(dir);
  ASSERT_TRUE(store.import_table(fixture()).ok());
  const auto other = make_kernel("softmax");
  ASSERT_TRUE(store.put_kernel(other).ok());
  ASSERT_TRUE(store.put_best(make_best(make_tuning(other, {{"N", 4096}}, "NVIDIA H100 PCIe"), {{"B", 1}}, 10)).ok());
  EXPECT_EQ(store.export_table().value_or_throw().entries.size(), 7u);
  auto sgemm = store.export_table({"sgemm_tiled", ""}).value_or_throw();
  EXPECT_EQ(sgemm.entries.size(), 6u);
  ASSERT_EQ(sgemm.kernels.size(), 1u);
  auto pcie = store.export_table({"", "NVIDIA H100 PCIe"}).value_or_throw();
  EXPECT_EQ(pcie.entries.size(), 2u);
  EXPECT_EQ(pcie.kernels.size(), 2u);
  EXPECT_EQ(store.export_table({"softmax", "NVIDIA H100 80GB HBM3"}).value_or_throw().entries.size(), 0u);
}

class StoreConflicts : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = fixture();
    store_.emplace(fresh(dir_));
    ASSERT_TRUE(store_->import_table(table_).ok());
    // Incoming: entry 0 faster but older, entry 1 slower but newer.
    incoming_ = table_;
    incoming_.entries[0].time_ns /= 2;
    incoming_.entries[0].tuned_at -= 86400;
    incoming_.entries[0].config[0].second = 32;
    incoming_.entries[1].time_ns *= 2;
    incoming_.entries[1].tuned_at += 86400;
    incoming_.entries[1].config[0].second = 32;
  }
  BestRecord stored(std::size_t i) { return *store_->best(table_.entries[i].tuning.tuning_key).value_or_throw(); }
  ScratchDir dir_;
  LookupTable table_, incoming_;
  std::optional<Store> store_;
};

TEST_F(StoreConflicts, KeepFasterTakesOnlyFasterEntries) {
  auto s = store_->import_table(incoming_, {ConflictPolicy::keep_faster}).value_or_throw();
  EXPECT_EQ(s.entries_replaced, 1u);
  EXPECT_EQ(s.entries_kept, 1u);
  EXPECT_EQ(s.entries_unchanged, 4u);
  EXPECT_EQ(stored(0), incoming_.entries[0]);
  EXPECT_EQ(stored(1), table_.entries[1]);
}

TEST_F(StoreConflicts, KeepNewerTakesOnlyNewerEntries) {
  auto s = store_->import_table(incoming_, {ConflictPolicy::keep_newer}).value_or_throw();
  EXPECT_EQ(s.entries_replaced, 1u);
  EXPECT_EQ(stored(0), table_.entries[0]);
  EXPECT_EQ(stored(1), incoming_.entries[1]);
}

TEST_F(StoreConflicts, ReplaceTakesEverything) {
  auto s = store_->import_table(incoming_, {ConflictPolicy::replace}).value_or_throw();
  EXPECT_EQ(s.entries_replaced, 2u);
  EXPECT_EQ(stored(0), incoming_.entries[0]);
  EXPECT_EQ(stored(1), incoming_.entries[1]);
}

TEST_F(StoreConflicts, FailRejectsTheWholeImportNamingTheEntry) {
  // A new entry in the same file must not be written either.
  const auto extra = make_best(make_tuning(table_.kernels[0], {{"M", 1}, {"N", 1}, {"K", 1}}, "NVIDIA H100 80GB HBM3"),
                               {{"BM", 32}}, 100);
  incoming_.entries.push_back(extra);
  const std::string before = table_to_json(store_->export_table().value_or_throw());
  auto result = store_->import_table(incoming_, {ConflictPolicy::fail});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::conflict);
  EXPECT_NE(result.error().message.find(incoming_.entries[0].tuning.tuning_key), std::string::npos)
      << result.error().message;
  EXPECT_EQ(table_to_json(store_->export_table().value_or_throw()), before);
  // Re-importing identical entries is not a conflict, even under `fail`.
  EXPECT_TRUE(store_->import_table(table_, {ConflictPolicy::fail}).ok());
}

// Each bad file is rejected whole, with an error naming the problem and the entry, and leaves
// the store exactly as it was.
using Json = nlohmann::ordered_json;

struct BadTable {
  const char* name;
  std::function<void(nlohmann::ordered_json&, std::string&)> damage;
  const char* expected_in_message;
};

class StoreBadImport : public ::testing::TestWithParam<BadTable> {};

TEST_P(StoreBadImport, IsRejectedWholeAndTheStoreIsUnchanged) {
  ScratchDir dir;
  auto store = fresh(dir);
  const auto other = make_kernel("already_there");
  ASSERT_TRUE(store.put_kernel(other).ok());
  ASSERT_TRUE(store.put_best(make_best(make_tuning(other, {{"N", 8}}, "NVIDIA H100 PCIe"), {{"B", 1}}, 10)).ok());
  const std::string before = table_to_json(store.export_table().value_or_throw());

  auto json = nlohmann::ordered_json::parse(read_file(kFixture));
  std::string text;
  GetParam().damage(json, text);
  if (text.empty()) text = json.dump(2);
  auto parsed = table_from_json(text);
  Error error;
  if (!parsed.ok()) {
    error = parsed.error();
  } else {
    auto imported = store.import_table(*parsed);
    ASSERT_FALSE(imported.ok()) << GetParam().name << " was accepted";
    error = imported.error();
  }
  EXPECT_NE(error.message.find(GetParam().expected_in_message), std::string::npos) << error.message;
  EXPECT_EQ(table_to_json(store.export_table().value_or_throw()), before);
  EXPECT_EQ(store.stats().value_or_throw().kernels, 1);
}

INSTANTIATE_TEST_SUITE_P(
    Files, StoreBadImport,
    ::testing::Values(
        BadTable{"truncated", [](Json& j, std::string& text_out) { text_out = j.dump(2).substr(0, 900); }, "not valid JSON"},
        BadTable{"wrong_version", [](Json& j, std::string&) { j["version"] = 2; }, "format version 2"},
        BadTable{"wrong_format", [](Json& j, std::string&) { j["format"] = "something-else"; }, "field 'format'"},
        BadTable{"string_time", [](Json& j, std::string&) { j["entries"][3]["time_ns"] = "1.8 ms"; },
                 "entries[3] (tuning_key "},
        BadTable{"float_size", [](Json& j, std::string&) { j["entries"][5]["sizes"]["M"] = 4096.5; }, "sizes.M"},
        BadTable{"unknown_kernel_field",
                 [](Json& j, std::string&) { j["kernels"][0]["source_path"] = "sgemm.cu"; },
                 "kernels[0] (sgemm_tiled): unknown field 'source_path'"},
        BadTable{"missing_field", [](Json& j, std::string&) { j["entries"][2].erase("strategy"); },
                 "entries[2] (tuning_key "},
        BadTable{"tampered_kernel",
                 [](Json& j, std::string&) { j["kernels"][0]["kernel_json"] = "{\"form\":\"ktune-kernel\",\"x\":1}"; },
                 "does not match its kernel_json"},
        BadTable{"bad_key", [](Json& j, std::string&) { j["entries"][1]["tuning_key"] = "XYZ"; }, "32 lowercase hex"},
        BadTable{"dangling_kernel",
                 [](Json& j, std::string&) { j["entries"][4]["kernel_key"] = std::string(32, 'a'); },
                 "is not among the table's kernels"},
        BadTable{"duplicate_entry",
                 [](Json& j, std::string&) { j["entries"].push_back(j["entries"][0]); }, "appears twice"},
        BadTable{"bad_date", [](Json& j, std::string&) { j["entries"][0]["tuned_at"] = "2026-13-40T10:00:00Z"; },
                 "tuned_at"},
        BadTable{"last_entry_invalid", [](Json& j, std::string&) { j["entries"][5]["time_ns"] = -1.0; },
                 "entries[5]"}),
    [](const ::testing::TestParamInfo<BadTable>& param_info) { return std::string(param_info.param.name); });

// ---- the commands ----

TEST(StoreCommands, ImportExportShowThroughTheCli) {
  ScratchDir dir;
  const std::string db = (dir / "cli.db").string();
  auto imported = testing::run_process({KTUNE_CLI, "import", kFixture.string(), "--db", db}, dir / "");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("6 entries added"), std::string::npos) << imported.out;

  auto exported = testing::run_process({KTUNE_CLI, "export", "--db", db}, dir / "");
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(exported.out, read_file(kFixture));

  auto filtered = testing::run_process({KTUNE_CLI, "export", "--db", db, "--device", "NVIDIA H100 PCIe"}, dir / "");
  ASSERT_EQ(filtered.exit_code, 0) << filtered.err;
  EXPECT_EQ(table_from_json(filtered.out).value_or_throw().entries.size(), 1u);

  auto shown = testing::run_process({KTUNE_CLI, "show", "--db", db}, dir / "");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("sgemm_tiled"), std::string::npos);
  EXPECT_NE(shown.out.find("M=4096 N=4096 K=4096"), std::string::npos);
  EXPECT_NE(shown.out.find("1.84 ms"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("3.10x"), std::string::npos) << shown.out;

  auto shown_json = testing::run_process({KTUNE_CLI, "show", "--db", db, "--json"}, dir / "");
  ASSERT_EQ(shown_json.exit_code, 0) << shown_json.err;
  auto parsed = nlohmann::json::parse(shown_json.out);
  EXPECT_EQ(parsed["best_entries"], 6);
  EXPECT_EQ(parsed["entries"].size(), 6u);
}

TEST(StoreCommands, BadImportFailsWithOneLineAndLeavesTheStoreUnchanged) {
  ScratchDir dir;
  const std::string db = (dir / "cli.db").string();
  ASSERT_EQ(testing::run_process({KTUNE_CLI, "import", kFixture.string(), "--db", db}, dir / "").exit_code, 0);
  auto damaged = nlohmann::ordered_json::parse(read_file(kFixture));
  damaged["entries"][2]["config"]["BM"] = "128";
  testing::write_file(dir / "bad-table.json", damaged.dump(2));
  const auto before = testing::run_process({KTUNE_CLI, "export", "--db", db}, dir / "").out;

  auto result = testing::run_process(
      {KTUNE_CLI, "import", (dir / "bad-table.json").string(), "--db", db, "--on-conflict", "replace"}, dir / "");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("entries[2]"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("nothing was imported"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(testing::run_process({KTUNE_CLI, "export", "--db", db}, dir / "").out, before);

  auto conflict = testing::run_process({KTUNE_CLI, "import", (dir / "bad-table.json").string(), "--db", db,
                                        "--on-conflict", "sometimes"},
                                       dir / "");
  EXPECT_NE(conflict.exit_code, 0);
}

TEST(StoreCommands, ShowOnAMissingStoreSaysSoWithoutCreatingIt) {
  ScratchDir dir;
  const auto db = dir / "absent.db";
  auto result = testing::run_process({KTUNE_CLI, "show", "--db", db.string()}, dir / "");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("no store at"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(db));
}

}  // namespace
}  // namespace ktune::store
