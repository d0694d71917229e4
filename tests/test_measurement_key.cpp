// Measurements are keyed by what determines them (docs/keys.md "Measurement key"), not by the
// space they were chosen from: one more value in a list re-uses every earlier measurement, a
// schema-1 store migrates and keeps answering, and a measurement made without verification does
// not answer a request that verifies. On the real engine over recorded H100 measurements
// (EngineOptions::replay) and real SQLite files.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"
#include "tests/helpers/scratch_dir.hpp"
#include "tests/helpers/store_test_support.hpp"
#include "tuner/search_space.hpp"

namespace {

using namespace ktune;
using ktune::testing::ScratchDir;
using json = nlohmann::ordered_json;  // the spec's parameter order is its configurations' order

const std::filesystem::path kRoot = KTUNE_SOURCE_DIR;
const std::filesystem::path kFixture = kRoot / "tests/data/h100-sgemm.db";  // schema 1: never written
const DeviceSignature kRecordedH100{"NVIDIA H100 80GB HBM3", "sm_90"};
const Sizes kSizes{{"M", 2048}, {"N", 2048}, {"K", 2048}};
constexpr std::size_t kRecordedValid = 228;  // valid configurations of examples/sgemm.json at kSizes

json example_json() { return json::parse(ktune::store::testing::read_file(kRoot / "examples/sgemm.json")); }

KernelSpec spec_of(const json& document) {
  return KernelSpec::from_json_text(document.dump(), kRoot / "examples").value_or_throw();
}

std::string measurement_key_of(const KernelSpec& spec) {
  return TuningQuestion{&spec, kSizes, kRecordedH100, Toolchain{"13.0"}}.measurement_key();
}

std::unique_ptr<Engine> engine_on(const std::filesystem::path& store_path) {
  EngineOptions options;
  options.store_path = store_path;
  options.replay = EngineOptions::Recording{kFixture, kRecordedH100, Toolchain{"13.0"}};
  return Engine::create(options).value_or_throw();
}

TuneReport tune_all(Engine& engine, const KernelSpec& spec) {
  TuneOptions options;
  options.strategy = "exhaustive";
  options.force = true;
  return engine.tune(spec, kSizes, options).value_or_throw().report;
}

std::int64_t count(const std::filesystem::path& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::int64_t out = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
    out = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

std::filesystem::path copy_of_fixture(const ScratchDir& dir) {
  const auto copy = dir / "old.db";
  std::filesystem::copy_file(kFixture, copy);
  return copy;
}

// ---- the key ----

TEST(MeasurementKey, TheSpaceDoesNotChangeItTheInputsDo) {
  const std::string base = measurement_key_of(spec_of(example_json()));
  json more = example_json();
  more["params"]["TN"].push_back(16);
  more["constraints"].push_back("BK >= 8");
  more["default"]["BM"] = 32;
  EXPECT_EQ(measurement_key_of(spec_of(more)), base) << "lists, constraints and the default are the space";
  json unverified = example_json();
  unverified["verify"] = false;
  EXPECT_EQ(measurement_key_of(spec_of(unverified)), base) << "verification is a recorded property, not the key";

  json zeros = example_json();
  zeros["args"][0]["init"] = "zeros";
  EXPECT_NE(measurement_key_of(spec_of(zeros)), base) << "init changes the data measured";
  json range = example_json();
  range["args"][1]["init"] = json{{"random", {{"min", 0}, {"max", 1}}}};
  EXPECT_NE(measurement_key_of(spec_of(range)), base);
  json seeded = example_json();
  seeded["seed"] = 7;
  EXPECT_NE(measurement_key_of(spec_of(seeded)), base);
  json launched = example_json();
  launched["launch"]["grid"][0] = "ceil_div(N, BN) + 1";
  EXPECT_NE(measurement_key_of(spec_of(launched)), base);
}

// ---- migration of a schema-1 store ----

TEST(MeasurementMigration, AnOldStoreKeepsEveryRowAndAnswersTheSameSpecFromThem) {
  ScratchDir dir("ktune-migration");
  const auto path = copy_of_fixture(dir);
  ASSERT_EQ(count(path, "PRAGMA user_version"), 1);
  const std::int64_t rows = count(path, "SELECT count(*) FROM measurements");
  const std::int64_t best = count(path, "SELECT count(*) FROM best");
  ASSERT_GT(rows, 0);
  {
    auto store = store::Store::open(path).value_or_throw();
    auto stats = store.stats().value_or_throw();
    EXPECT_EQ(stats.measurements, rows);
    EXPECT_EQ(stats.best_entries, best);
  }
  EXPECT_EQ(count(path, "PRAGMA user_version"), store::kSchemaVersion);
  EXPECT_EQ(count(path, "SELECT count(*) FROM measurements"), rows);
  EXPECT_EQ(count(path, "SELECT count(*) FROM measurements WHERE measurement_key IS NULL"), 0);
  EXPECT_EQ(count(path, "SELECT count(*) FROM measurements WHERE verification = 'unrecorded'"), rows);

  // The same spec, tuned again through the real engine, measures nothing: every configuration is
  // answered by the migrated rows.
  const auto report = tune_all(*engine_on(path), spec_of(example_json()));
  EXPECT_EQ(report.evaluated, 0u);
  EXPECT_EQ(report.from_store, kRecordedValid);
  EXPECT_EQ(count(path, "SELECT count(*) FROM measurements"), rows);
}

TEST(MeasurementMigration, ASecondOpenChangesNothing) {
  ScratchDir dir("ktune-migration");
  const auto path = copy_of_fixture(dir);
  { auto store = store::Store::open(path).value_or_throw(); }
  auto keys = [&] { return count(path, "SELECT sum(length(measurement_key)) + count(DISTINCT measurement_key) FROM measurements"); };
  const auto before = keys();
  const auto version = count(path, "PRAGMA schema_version");  // bumped by any change to the schema
  { auto store = store::Store::open(path).value_or_throw(); }
  EXPECT_EQ(keys(), before);
  EXPECT_EQ(count(path, "PRAGMA schema_version"), version);
  EXPECT_EQ(count(path, "PRAGMA user_version"), store::kSchemaVersion);
}

TEST(MeasurementMigration, AFailedMigrationLeavesTheStoreAsItWas) {
  ScratchDir dir("ktune-migration");
  const auto path = copy_of_fixture(dir);
  {  // a trigger that makes the migration's data step fail half-way
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TRIGGER refuse AFTER UPDATE ON measurements WHEN new.id > 500 "
                           "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  const std::int64_t rows = count(path, "SELECT count(*) FROM measurements");
  auto store = store::Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("refused for the test"), std::string::npos) << store.error().message;
  EXPECT_EQ(count(path, "PRAGMA user_version"), 1);
  EXPECT_EQ(count(path, "SELECT count(*) FROM measurements"), rows);
  EXPECT_EQ(count(path, "SELECT count(*) FROM pragma_table_info('measurements') WHERE name = 'measurement_key'"), 0);
}

TEST(MeasurementMigration, ARowWhoseKeyCannotBeComputedIsKeptAndAnswersNothing) {
  ScratchDir dir("ktune-migration");
  const auto path = copy_of_fixture(dir);
  {  // a kernel form that is no kernel form: its measurements have no computable key
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE kernels SET kernel_json = 'not a kernel form'", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  const std::int64_t rows = count(path, "SELECT count(*) FROM measurements");
  { auto store = store::Store::open(path).value_or_throw(); }
  EXPECT_EQ(count(path, "SELECT count(*) FROM measurements"), rows);
  EXPECT_EQ(count(path, "SELECT count(*) FROM measurements WHERE measurement_key IS NULL"), rows);
  // Still there by the tuning key that measured them (history, replay).
  auto store = store::Store::open(path).value_or_throw();
  const KernelSpec spec = spec_of(example_json());
  const TuningQuestion question{&spec, kSizes, kRecordedH100, Toolchain{"13.0"}};
  EXPECT_EQ(store.measurements_for(question.tuning_record().tuning_key).value_or_throw().size(), 231u);
  EXPECT_TRUE(store.measurements_of(question.unrecorded_inputs_measurement_key()).value_or_throw().empty());
}

TEST(MeasurementMigration, AReadOnlyOpenMigratesACopyAndNeverTheFile) {
  ScratchDir dir("ktune-migration");
  const auto path = copy_of_fixture(dir);
  const std::string bytes = ktune::store::testing::read_file(path);
  store::StoreOptions read_only;
  read_only.read_only = true;
  auto store = store::Store::open(path, read_only).value_or_throw();
  const KernelSpec spec = spec_of(example_json());
  const TuningQuestion question{&spec, kSizes, kRecordedH100, Toolchain{"13.0"}};
  EXPECT_EQ(store.measurements_of(question.unrecorded_inputs_measurement_key()).value_or_throw().size(), 231u);
  EXPECT_EQ(ktune::store::testing::read_file(path), bytes);
}

// ---- re-use ----

TEST(MeasurementReuse, OneMoreValueInAListMeasuresOnlyTheConfigurationsWithIt) {
  ScratchDir dir("ktune-reuse");
  auto engine = engine_on(dir / "store.db");
  const auto first = tune_all(*engine, spec_of(example_json()));
  ASSERT_EQ(first.evaluated, kRecordedValid);

  json more = example_json();
  more["params"]["TN"].push_back(16);
  const KernelSpec wider = spec_of(more);
  const auto space = SearchSpace::build(wider.space, &kSizes).value_or_throw();
  std::size_t with_new_value = 0;
  for (std::uint64_t i = 0; i < space.valid_count(); ++i)
    if (find_value(space.config_at(i), "TN") == 16) ++with_new_value;
  ASSERT_GT(with_new_value, 0u);
  ASSERT_EQ(space.valid_count(), kRecordedValid + with_new_value);

  const auto second = tune_all(*engine, wider);
  EXPECT_EQ(second.evaluated, with_new_value);
  EXPECT_EQ(second.from_store, kRecordedValid);
}

TEST(MeasurementReuse, AMeasurementWithoutVerificationDoesNotAnswerARequestThatVerifies) {
  ScratchDir dir("ktune-reuse");
  auto engine = engine_on(dir / "store.db");
  json unverified = example_json();
  unverified["verify"] = false;
  ASSERT_EQ(tune_all(*engine, spec_of(unverified)).evaluated, kRecordedValid);
  const auto verified = tune_all(*engine, spec_of(example_json()));
  EXPECT_EQ(verified.evaluated, kRecordedValid);
  EXPECT_EQ(verified.from_store, 0u);
}

TEST(MeasurementReuse, AVerifiedMeasurementAnswersARequestWithoutVerification) {
  ScratchDir dir("ktune-reuse");
  auto engine = engine_on(dir / "store.db");
  ASSERT_EQ(tune_all(*engine, spec_of(example_json())).evaluated, kRecordedValid);
  json unverified = example_json();
  unverified["verify"] = false;
  const auto report = tune_all(*engine, spec_of(unverified));
  EXPECT_EQ(report.evaluated, 0u);
  EXPECT_EQ(report.from_store, kRecordedValid);
}

TEST(MeasurementReuse, OtherVerificationTolerancesMeasureAgain) {
  ScratchDir dir("ktune-reuse");
  auto engine = engine_on(dir / "store.db");
  ASSERT_EQ(tune_all(*engine, spec_of(example_json())).evaluated, kRecordedValid);
  json looser = example_json();
  looser["verify"]["rtol"] = 1e-2;
  EXPECT_EQ(tune_all(*engine, spec_of(looser)).evaluated, kRecordedValid);
}

TEST(MeasurementReuse, AnotherInitIsAnotherMeasurement) {
  ScratchDir dir("ktune-reuse");
  auto engine = engine_on(dir / "store.db");
  ASSERT_EQ(tune_all(*engine, spec_of(example_json())).evaluated, kRecordedValid);
  json zeros = example_json();
  zeros["args"][0]["init"] = "zeros";
  EXPECT_EQ(tune_all(*engine, spec_of(zeros)).from_store, 0u);
}

}  // namespace
