// Import validates what a table means, not only its format (issue #14, "Poisoned"): every entry
// is checked against its kernel — parameters, lists, constraints at the entry's sizes, sizes,
// arch, toolchain, and the tuning key recomputed from the content. Table-driven over many poisoned
// variants of the shipped fixture; each is refused whole, with one line naming the entry or kernel
// and the field, through the library (StoreFile) and through the real `ktune import`, and the store
// keeps exactly what it had.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "engine/common/hash.hpp"
#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"
#include "engine/model/table_meaning.hpp"
#include "engine/store_file.hpp"
#include "tests/helpers/block_sum_spec.hpp"
#include "tests/helpers/store_test_support.hpp"

namespace ktune {
namespace {

using Json = nlohmann::ordered_json;
using store::testing::read_file;
using store::testing::run_process;
using store::testing::ScratchDir;
using store::testing::write_file;

const std::filesystem::path kFixture = std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/data/sgemm-table.json";

// A kernel whose constraint names a size (the issue's `BLOCK*ITEMS <= N`), so that validity
// depends on the entry's sizes.
const std::string kReductionSpec = ktune::testing::block_sum_spec(64);

std::string tuning_key_of(const Json& entry) {
  Sizes sizes;
  std::vector<std::string> names;
  for (auto it = entry["sizes"].begin(); it != entry["sizes"].end(); ++it) {
    names.push_back(it.key());
    sizes.emplace_back(it.key(), it.value().is_number_integer() ? it.value().get<std::int64_t>() : 0);
  }
  std::string toolchain = entry["toolchain"].get<std::string>();
  toolchain = toolchain.rfind("nvrtc ", 0) == 0 ? toolchain.substr(6) : toolchain;
  return xxh3_128(tuning_canonical_form(entry["kernel_key"].get<std::string>(), names, sizes,
                                        {entry["device"].get<std::string>(), entry["arch"].get<std::string>()},
                                        Toolchain{toolchain}))
      .hex();
}

// The fixture plus a block_sum kernel with two entries (N=4096 and N=1000000), all keys right.
Json good_table() {
  Json table = Json::parse(read_file(kFixture));
  const KernelSpec spec = KernelSpec::from_json_text(kReductionSpec).value_or_throw();
  const std::string form = kernel_canonical_form(spec);
  table["kernels"].push_back(Json{{"kernel_key", xxh3_128(form).hex()}, {"name", "block_sum"}, {"kernel_json", form}});
  for (std::int64_t n : {4096, 1000000}) {
    Json entry = table["entries"][0];
    entry["kernel_key"] = xxh3_128(form).hex();
    entry["sizes"] = Json{{"N", n}};
    entry["config"] = Json{{"BLOCK", 256}, {"ITEMS", 4}};
    entry["tuning_key"] = tuning_key_of(entry);
    table["entries"].push_back(entry);
  }
  return table;
}
constexpr std::size_t kReductionSmall = 6;  // entries[6]: block_sum at N=4096
constexpr std::size_t kReductionLarge = 7;  // entries[7]: block_sum at N=1000000

// After a poison, every key that is derived from content is recomputed, so the table is wrong in
// exactly the field the case names (and the format checks, which compare keys, do not catch it first).
void resign(Json& table, bool tuning_keys) {
  std::map<std::string, std::string> renamed;
  for (Json& k : table["kernels"]) {
    if (!k["kernel_json"].is_string()) continue;
    const std::string key = xxh3_128(k["kernel_json"].get<std::string>()).hex();
    renamed[k["kernel_key"].get<std::string>()] = key;
    k["kernel_key"] = key;
  }
  for (Json& e : table["entries"]) {
    if (auto it = renamed.find(e["kernel_key"].get<std::string>()); it != renamed.end()) e["kernel_key"] = it->second;
    if (tuning_keys) e["tuning_key"] = tuning_key_of(e);
  }
}

struct Poison {
  std::string name;
  std::string where;  // "entries[3]" or "kernels[0]"
  std::string field;  // named in the message
  std::function<void(Json&)> apply;
  bool resign_tuning_keys = true;
};

// Edits kernels[k]'s form (a JSON text inside the table) as a JSON document.
std::function<void(Json&)> edit_form(std::size_t k, std::function<void(nlohmann::json&)> edit) {
  return [k, edit](Json& t) {
    auto form = nlohmann::json::parse(t["kernels"][k]["kernel_json"].get<std::string>());
    edit(form);
    t["kernels"][k]["kernel_json"] = form.dump();
  };
}
std::function<void(Json&)> replace_form(std::size_t k, std::string text) {
  return [k, text](Json& t) { t["kernels"][k]["kernel_json"] = text; };
}

std::vector<Poison> poisons() {
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::vector<Poison> out;
  auto add = [&](std::string name, std::size_t entry, std::string field, std::function<void(Json&)> apply,
                 bool resign_tuning_keys = true) {
    out.push_back({std::move(name), "entries[" + std::to_string(entry) + "]", std::move(field), std::move(apply),
                   resign_tuning_keys});
  };
  const std::vector<std::string> sgemm_params{"BM", "BN", "BK", "TM", "TN"};

  // config: parameters the kernel does not have
  for (std::size_t e : {std::size_t{0}, std::size_t{3}, std::size_t{5}})
    for (const char* name : {"XYZ", "bm", "M", "BLOCK", "__ktune_entry__"})
      add("config_unknown_" + std::string(name) + "_" + std::to_string(e), e, "config",
          [=](Json& t) { t["entries"][e]["config"][name] = 64; });
  // config: values not in the lists
  for (const auto& p : sgemm_params)
    for (std::int64_t v : {std::int64_t{999999}, std::int64_t{-3}, std::int64_t{0}, std::int64_t{48},
                           std::int64_t{1}, std::int64_t{33}, kMax, kMin})
      add("config_value_" + p + "_" + std::to_string(v), 1, "config", [=](Json& t) { t["entries"][1]["config"][p] = v; });
  // config: partial and empty
  for (const auto& p : sgemm_params)
    add("config_missing_" + p, 4, "config", [=](Json& t) { t["entries"][4]["config"].erase(p); });
  for (std::size_t e : {std::size_t{0}, kReductionSmall})
    add("config_empty_" + std::to_string(e), e, "config", [=](Json& t) { t["entries"][e]["config"] = Json::object(); });
  // config: in the lists, but the constraints reject it ((BM/TM)*(BN/TN) <= 1024)
  for (auto [bm, bn, tm, tn] : std::vector<std::array<int, 4>>{{128, 128, 2, 2}, {128, 64, 2, 2}, {64, 128, 2, 2},
                                                                {128, 128, 4, 2}})
    add("config_constraint_" + std::to_string(bm) + "_" + std::to_string(bn) + "_" + std::to_string(tm) + "_" +
            std::to_string(tn),
        2, "config", [=](Json& t) {
          Json& c = t["entries"][2]["config"];
          c["BM"] = bm, c["BN"] = bn, c["TM"] = tm, c["TN"] = tn;
        });
  // config: block_sum, the values and constraints over sizes (BLOCK*ITEMS <= N at N=100)
  add("config_issue_values", kReductionSmall, "config",
      [](Json& t) { t["entries"][kReductionSmall]["config"] = Json{{"BLOCK", 999999}, {"ITEMS", -3}}; });
  for (auto [block, items] : std::vector<std::array<int, 2>>{{128, 1}, {64, 2}, {256, 4}, {512, 8}})
    add("config_size_constraint_" + std::to_string(block) + "x" + std::to_string(items), kReductionSmall, "config",
        [=](Json& t) {
          t["entries"][kReductionSmall]["sizes"]["N"] = 100;
          t["entries"][kReductionSmall]["config"] = Json{{"BLOCK", block}, {"ITEMS", items}};
        });

  // sizes: negative, beyond range, missing, extra, renamed, reordered, empty
  for (const char* s : {"M", "N", "K"}) {
    for (std::int64_t v : {std::int64_t{-1}, std::int64_t{-4096}, kMin, kMaxImportedSize + 1, kMax})
      add("sizes_" + std::string(s) + "_" + std::to_string(v), 2, "sizes", [=](Json& t) { t["entries"][2]["sizes"][s] = v; });
    add("sizes_missing_" + std::string(s), 2, "sizes", [=](Json& t) { t["entries"][2]["sizes"].erase(s); });
  }
  add("sizes_extra", 2, "sizes", [](Json& t) { t["entries"][2]["sizes"]["Q"] = 4; });
  add("sizes_renamed", 2, "sizes", [](Json& t) {
    Json& s = t["entries"][2]["sizes"];
    s = Json{{"m", s["M"]}, {"N", s["N"]}, {"K", s["K"]}};
  });
  add("sizes_reordered", 2, "sizes", [](Json& t) {
    Json& s = t["entries"][2]["sizes"];
    s = Json{{"N", s["N"]}, {"M", s["M"]}, {"K", s["K"]}};
  });
  add("sizes_empty", 2, "sizes", [](Json& t) { t["entries"][2]["sizes"] = Json::object(); });
  add("sizes_negative_block_sum", kReductionLarge, "sizes", [](Json& t) { t["entries"][kReductionLarge]["sizes"]["N"] = -5; });

  // arch
  for (const char* arch : {"banana", "", "sm_", "sm_9", "sm_0090", "SM_90", "sm_90b", "compute_90", "sm_90 ", " sm_90",
                           "sm_1000", "sm_9a", "sm_90\x1b[2J"})
    add("arch_" + std::to_string(out.size()), 3, "arch", [=](Json& t) { t["entries"][3]["arch"] = arch; });
  // toolchain
  for (const char* toolchain : {"nvrtc", "nvrtc 13", "gcc 13.0", "nvrtc 13.x", "nvrtc  13.0", "NVRTC 13.0",
                                "nvrtc 13.0 ", "nvrtc .0"})
    add("toolchain_" + std::to_string(out.size()), 4, "toolchain",
        [=](Json& t) { t["entries"][4]["toolchain"] = toolchain; });

  // tuning keys that do not match the entry's content (not re-signed)
  add("tuning_key_issue_small_n_answers_n1000000", kReductionLarge, "tuning_key",
      [](Json& t) { t["entries"][kReductionLarge]["sizes"]["N"] = 4096; }, false);
  for (std::size_t e = 0; e < 6; ++e) {
    add("tuning_key_other_sizes_" + std::to_string(e), e, "tuning_key",
        [=](Json& t) { t["entries"][e]["sizes"]["K"] = t["entries"][e]["sizes"]["K"].get<std::int64_t>() * 2; }, false);
  }
  for (std::size_t e : {std::size_t{0}, std::size_t{5}}) {
    add("tuning_key_device_" + std::to_string(e), e, "tuning_key",
        [=](Json& t) { t["entries"][e]["device"] = "NVIDIA A100-SXM4-80GB"; }, false);
    add("tuning_key_arch_" + std::to_string(e), e, "tuning_key", [=](Json& t) { t["entries"][e]["arch"] = "sm_80"; }, false);
    add("tuning_key_toolchain_" + std::to_string(e), e, "tuning_key",
        [=](Json& t) { t["entries"][e]["toolchain"] = "nvrtc 12.8"; }, false);
    add("tuning_key_random_" + std::to_string(e), e, "tuning_key",
        [=](Json& t) { t["entries"][e]["tuning_key"] = "0123456789abcdef0123456789abcdef"; }, false);
  }
  add("tuning_key_other_kernel", 0, "sizes",
      [](Json& t) { t["entries"][0]["kernel_key"] = t["kernels"][1]["kernel_key"]; }, false);

  // kernel forms that are not kernels (kernels[0] is sgemm_tiled; its entries come first)
  auto add_form = [&](std::string name, std::function<void(Json&)> apply) {
    out.push_back({std::move(name), "kernels[0]", "kernel_json", std::move(apply), true});
  };
  add_form("form_not_json", replace_form(0, "this is not a kernel"));
  add_form("form_array", replace_form(0, "[1, 2, 3]"));
  add_form("form_empty_object", replace_form(0, "{}"));
  add_form("form_null", replace_form(0, "null"));
  add_form("form_string", replace_form(0, "\"ktune-kernel\""));
  add_form("form_other_form", edit_form(0, [](auto& f) { f["form"] = "ktune-tuning"; }));
  add_form("form_version_2", edit_form(0, [](auto& f) { f["version"] = 2; }));
  add_form("form_version_text", edit_form(0, [](auto& f) { f["version"] = "1"; }));
  for (const char* field : {"form", "version", "source", "params", "sizes", "constraints"})
    add_form("form_missing_" + std::string(field), edit_form(0, [=](auto& f) { f.erase(field); }));
  add_form("form_empty_source", edit_form(0, [](auto& f) { f["source"] = ""; }));
  add_form("form_params_object", edit_form(0, [](auto& f) { f["params"] = nlohmann::json{{"BM", {32}}}; }));
  add_form("form_param_not_identifier", edit_form(0, [](auto& f) { f["params"][0]["name"] = "B M"; }));
  add_form("form_param_twice", edit_form(0, [](auto& f) { f["params"][1]["name"] = "BM"; }));
  add_form("form_param_is_size", edit_form(0, [](auto& f) { f["params"][1]["name"] = "M"; }));
  add_form("form_values_unsorted", edit_form(0, [](auto& f) { f["params"][0]["values"] = {128, 32, 64}; }));
  add_form("form_values_repeated", edit_form(0, [](auto& f) { f["params"][0]["values"] = {32, 32, 64, 128}; }));
  add_form("form_values_empty", edit_form(0, [](auto& f) { f["params"][0]["values"] = nlohmann::json::array(); }));
  add_form("form_values_float", edit_form(0, [](auto& f) { f["params"][0]["values"] = {32.5, 64, 128}; }));
  add_form("form_values_text", edit_form(0, [](auto& f) { f["params"][0]["values"] = {"32", "64", "128"}; }));
  add_form("form_size_twice", edit_form(0, [](auto& f) { f["sizes"] = {"M", "N", "M"}; }));
  add_form("form_size_not_identifier", edit_form(0, [](auto& f) { f["sizes"][0] = "1M"; }));
  add_form("form_constraint_syntax", edit_form(0, [](auto& f) { f["constraints"][0] = "BM %% TM =="; }));
  add_form("form_constraint_unknown_name", edit_form(0, [](auto& f) { f["constraints"][0] = "BX % TM == 0"; }));
  add_form("form_constraint_number", edit_form(0, [](auto& f) { f["constraints"][0] = 1; }));
  return out;
}

Error import_error(StoreFile& store, const std::string& text) {
  auto parsed = table_from_json(text);
  if (!parsed) return parsed.error();
  auto imported = store.import_table(*parsed, {ConflictPolicy::replace});
  if (imported) return make_error(Errc::internal, "accepted");
  return imported.error();
}

std::string poisoned_text(const Poison& poison) {
  Json table = good_table();
  poison.apply(table);
  resign(table, poison.resign_tuning_keys);
  return table.dump(2);
}

TEST(ImportMeaning, TheUnpoisonedTableImports) {
  ScratchDir dir;
  auto store = StoreFile::open(dir / "ktune.db").value_or_throw();
  Json table = good_table();
  resign(table, true);
  auto summary = store.import_table(table_from_json(table.dump(2)).value_or_throw());
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->entries_added, 8u);
}

TEST(ImportMeaning, ArchNames) {
  for (const char* good : {"sm_75", "sm_90", "sm_90a", "sm_100", "sm_100a", "sm_100f", "sm_120"})
    EXPECT_TRUE(is_arch_name(good)) << good;
  for (const char* bad : {"banana", "sm_", "sm_9", "sm_0090", "compute_90", "sm_90b", "sm_1000", "sm_09"})
    EXPECT_FALSE(is_arch_name(bad)) << bad;
}

// Every poisoned variant through the library: refused with one line naming the entry and the
// field, and the store (already holding the good table) unchanged.
TEST(ImportMeaning, EveryPoisonedTableIsRefusedWholeThroughTheLibrary) {
  ScratchDir dir;
  auto store = StoreFile::open(dir / "ktune.db").value_or_throw();
  Json good = good_table();
  ASSERT_TRUE(store.import_table(table_from_json(good.dump(2)).value_or_throw()).ok());
  const std::string before = table_to_json(store.export_table().value_or_throw());
  const auto cases = poisons();
  EXPECT_EQ(cases.size(), 160u);  // the count reported on issue #14 (each also runs through the CLI)
  for (const Poison& poison : cases) {
    const Error error = import_error(store, poisoned_text(poison));
    EXPECT_NE(error.message, "accepted") << poison.name << " was accepted";
    EXPECT_NE(error.message.find(poison.where), std::string::npos) << poison.name << ": " << error.message;
    EXPECT_NE(error.message.find("field '" + poison.field + "'"), std::string::npos) << poison.name << ": " << error.message;
    EXPECT_EQ(error.message.find('\n'), std::string::npos) << poison.name << ": " << error.message;
  }
  EXPECT_EQ(table_to_json(store.export_table().value_or_throw()), before);
}

// The same variants through the real `ktune import` into a fresh store: exit 1, one error line
// naming entry and field, nothing imported (the store is empty afterwards).
TEST(ImportMeaning, EveryPoisonedTableIsRefusedWholeByTheCli) {
  ScratchDir dir;
  const std::string db = (dir / "cli.db").string();
  {
    auto store = StoreFile::open(db).value_or_throw();
    ASSERT_TRUE(store.import_table(table_from_json(read_file(kFixture)).value_or_throw()).ok());
  }
  const std::string before = table_to_json(StoreFile::open(db).value_or_throw().export_table().value_or_throw());
  for (const Poison& poison : poisons()) {
    write_file(dir / "poisoned.json", poisoned_text(poison));
    auto result = run_process({KTUNE_CLI, "import", (dir / "poisoned.json").string(), "--db", db, "--on-conflict",
                               "replace"},
                              dir.path);
    EXPECT_EQ(result.exit_code, 1) << poison.name;
    EXPECT_EQ(result.out, "") << poison.name;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << poison.name << ": " << result.err;
    EXPECT_NE(result.err.find(poison.where), std::string::npos) << poison.name << ": " << result.err;
    EXPECT_NE(result.err.find("nothing was imported"), std::string::npos) << poison.name << ": " << result.err;
  }
  EXPECT_EQ(table_to_json(StoreFile::open(db).value_or_throw().export_table().value_or_throw()), before);
}

// The example end to end: an entry tuned at a small N that claims N=1000000's key is refused,
// so a lookup at N=1000000 cannot be answered "exact" from it.
TEST(ImportMeaning, AnEntryCannotAnswerForOtherSizes) {
  ScratchDir dir;
  auto store = StoreFile::open(dir / "ktune.db").value_or_throw();
  Json table = good_table();
  table["entries"][kReductionLarge]["sizes"]["N"] = 4096;  // tuned at N=4096, keyed as N=1000000
  const Error error = import_error(store, table.dump(2));
  EXPECT_NE(error.message.find("entries[7] (kernel block_sum, tuning_key "), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("field 'tuning_key': does not match"), std::string::npos) << error.message;
  EXPECT_EQ(store.stats().value_or_throw().kernels, 0);
}

}  // namespace
}  // namespace ktune
