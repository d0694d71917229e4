// The store on a disk that fills up or fails (a test-only SQLite VFS, tests/helpers/faulty_vfs.hpp,
// wrapping the real one: real files, real SQLite, unchanged product code): a write that hits the
// fault is a clear error naming the store file, the process and the Store go on, and once the disk
// is usable again every row committed before is intact and no part of the failed write is there —
// for measurement batches, lookup-table entries, imports (all or nothing), WAL checkpoints, and a
// whole tuning session.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>

#include "engine/replay_evaluator.hpp"
#include "engine/tuning_session.hpp"
#include "store/store.hpp"
#include "tests/helpers/faulty_vfs.hpp"
#include "tests/helpers/store_test_support.hpp"
#include "tuner/strategy.hpp"

namespace ktune::store {
namespace {

using ktune::testing::FaultyVfs;
using ktune::testing::VfsFaultPlan;
using testing::ScratchDir;
using testing::integrity_check;

Measurement make_measurement(std::int64_t batch, std::int64_t index) {
  Measurement m;
  m.config = {{"B", batch}, {"I", index}};
  m.status = index % 5 == 2 ? MeasurementStatus::compile_error : MeasurementStatus::ok;
  if (m.status == MeasurementStatus::ok)
    m.timing = TimingStats{1000.0 + static_cast<double>(index), 990.5, 1001.25, 3.5, 25, "cupti"};
  else
    m.message = "error: identifier \"BMX\" is undefined (batch " + std::to_string(batch) + ")";
  m.registers = 64 + index % 7;
  m.shared_bytes = 16384;
  m.compile_seconds = 0.125;
  m.measured_at = 1795342500 + batch;
  m.ktune_version = "0.1.0";
  return m;
}

MeasurementBatch make_batch(const TuningRecord& tuning, std::int64_t batch, std::int64_t rows) {
  MeasurementBatch out{tuning, {}, {}};
  for (std::int64_t i = 0; i < rows; ++i) out.measurements.push_back(make_measurement(batch, i));
  return out;
}

struct StoreFaults : ::testing::Test {
  void SetUp() override {
    vfs = &FaultyVfs::install();
    ASSERT_STREQ(sqlite3_vfs_find(nullptr)->zName, FaultyVfs::name()) << "the faulty VFS is not the default";
    db_path = dir / "store.db";
    kernel = testing::make_kernel("sgemm_tiled");
    tuning = testing::make_tuning(kernel, {{"M", 4096}, {"N", 4096}, {"K", 4096}}, "NVIDIA H100 80GB HBM3");
  }
  void TearDown() override { vfs->disarm(); }

  // A store with `batches` committed batches of `rows` measurements.
  Store committed_store(int batches, int rows) {
    auto store = Store::open(db_path).value_or_throw();
    EXPECT_TRUE(store.put_kernel(kernel).ok());
    for (int b = 0; b < batches; ++b) EXPECT_TRUE(store.record_measurements(make_batch(tuning, b, rows)).ok());
    return store;
  }

  // Reopens the file after the disk recovered: sound, and exactly the expected measurements.
  void expect_exactly(const std::vector<Measurement>& expected) {
    EXPECT_EQ(integrity_check(db_path), "ok");
    auto reopened = Store::open(db_path);
    ASSERT_TRUE(reopened.ok()) << reopened.error().message;
    EXPECT_EQ(reopened->measurements_for(tuning.tuning_key).value_or_throw(), expected);
    EXPECT_EQ(reopened->stats().value_or_throw().measurements, static_cast<std::int64_t>(expected.size()));
  }

  ScratchDir dir;
  FaultyVfs* vfs = nullptr;
  std::filesystem::path db_path;
  KernelRecord kernel;
  TuningRecord tuning;
};

struct Fault {
  const char* name;
  VfsFaultPlan plan;
  const char* says;  // what the error message must say
};

const Fault kFaults[] = {
    {"disk full at the first byte", {.write_bytes_left = 0}, "disk is full"},
    {"disk full in the middle of a page (a torn write)", {.write_bytes_left = 4096 + 1000}, "disk is full"},
    {"disk full after 300 KiB, while the batch spills into the WAL", {.write_bytes_left = 300 << 10}, "disk is full"},
    {"I/O error on the first write", {.disk_full = false, .writes_left = 0}, "I/O error"},
    {"I/O error on the third write", {.disk_full = false, .writes_left = 2}, "I/O error"},
    {"fsync fails at commit", {.syncs_left = 0}, "I/O error"},
};

TEST_F(StoreFaults, AFailedBatchIsAClearErrorAndLosesNothingCommitted) {
  for (const Fault& fault : kFaults) {
    SCOPED_TRACE(fault.name);
    std::filesystem::remove(db_path);
    std::vector<Measurement> expected;
    {
      Store store = committed_store(4, 60);
      for (int b = 0; b < 4; ++b)
        for (auto& m : make_batch(tuning, b, 60).measurements) expected.push_back(m);

      // Big enough (~2.5 MB) to spill pages into the WAL before COMMIT under some budgets.
      vfs->arm(fault.plan);
      const Status failed = store.record_measurements(make_batch(tuning, 4, 12000));
      vfs->disarm();
      ASSERT_FALSE(failed.ok()) << "the fault did not reach the batch";
      EXPECT_EQ(failed.error().code, Errc::io);
      EXPECT_NE(failed.error().message.find(db_path.string()), std::string::npos)
          << "the error does not name the store: " << failed.error().message;
      EXPECT_NE(failed.error().message.find(fault.says), std::string::npos) << failed.error().message;
      EXPECT_GT(vfs->counters().failures, 0);
      if (&fault == &kFaults[1]) std::printf("for example: %s\n", failed.error().message.c_str());

      // The same Store goes on once the disk is usable: nothing of the failed batch is visible.
      EXPECT_EQ(store.measurements_for(tuning.tuning_key).value_or_throw(), expected);
      const Status after = store.record_measurements(make_batch(tuning, 5, 60));
      ASSERT_TRUE(after.ok()) << after.error().message;
      for (auto& m : make_batch(tuning, 5, 60).measurements) expected.push_back(m);
    }
    expect_exactly(expected);
  }
}

TEST_F(StoreFaults, AFailedBestEntryKeepsThePreviousOne) {
  for (const Fault& fault : kFaults) {
    SCOPED_TRACE(fault.name);
    std::filesystem::remove(db_path);
    const BestRecord before = testing::make_best(tuning, {{"BM", 64}, {"BN", 64}}, 5000.0);
    {
      Store store = committed_store(1, 10);
      ASSERT_TRUE(store.put_best(before).ok());
      ASSERT_EQ(store.lookup(testing::request_for(tuning)).value_or_throw().entry->config, before.config);
      const std::int64_t failures_before = vfs->counters().failures;
      vfs->arm(fault.plan);
      const Status failed = store.put_best(testing::make_best(tuning, {{"BM", 128}, {"BN", 128}}, 1843.2));
      vfs->disarm();
      if (failed.ok()) {
        // A budget larger than one small entry's commit: then no write may have failed either.
        EXPECT_EQ(vfs->counters().failures, failures_before) << "a write failed but put_best said ok";
        continue;
      }
      EXPECT_EQ(failed.error().code, Errc::io);
      EXPECT_NE(failed.error().message.find(db_path.string()), std::string::npos) << failed.error().message;
      // The in-memory tier was not told about a write that did not happen.
      EXPECT_EQ(store.lookup(testing::request_for(tuning)).value_or_throw().entry->config, before.config);
    }
    EXPECT_EQ(integrity_check(db_path), "ok");
    auto reopened = Store::open(db_path).value_or_throw();
    EXPECT_EQ(reopened.best(tuning.tuning_key).value_or_throw(), before);
    EXPECT_EQ(reopened.measurements_for(tuning.tuning_key).value_or_throw().size(), 10u);
  }
}

// A table of `entries` entries over three kernels (a deployment's import).
LookupTable big_table(int entries) {
  LookupTable table;
  for (const char* name : {"sgemm_tiled", "reduce_rows", "softmax"})
    table.kernels.push_back(testing::make_kernel(name));
  for (int i = 0; i < entries; ++i) {
    const KernelRecord& k = table.kernels[static_cast<std::size_t>(i % 3)];
    const auto t = testing::make_tuning(k, {{"M", 64 + i}, {"N", 4096}}, "NVIDIA H100 80GB HBM3");
    table.entries.push_back(testing::make_best(t, {{"BM", 64 << (i % 3)}, {"BN", 32}}, 1000.0 + i));
  }
  sort_canonical(table);
  return table;
}

TEST_F(StoreFaults, AnImportIntoAFullDiskIsAllOrNothing) {
  const LookupTable table = big_table(9000);  // ~3 MB of rows and index: spills before COMMIT
  const std::int64_t budgets[] = {0, 64 << 10, 1 << 20, 2 << 20};
  for (const std::int64_t budget : budgets) {
    SCOPED_TRACE("disk full after " + std::to_string(budget) + " bytes");
    std::filesystem::remove(db_path);
    LookupTable before;
    {
      Store store = committed_store(2, 30);
      const BestRecord earlier = testing::make_best(tuning, {{"BM", 64}, {"BN", 64}}, 5000.0);
      ASSERT_TRUE(store.put_best(earlier).ok());
      before = store.export_table().value_or_throw();
      vfs->arm({.write_bytes_left = budget});
      auto imported = store.import_table(table);
      vfs->disarm();
      ASSERT_FALSE(imported.ok()) << "the import fitted in " << budget << " bytes";
      EXPECT_EQ(imported.error().code, Errc::io);
      EXPECT_NE(imported.error().message.find(db_path.string()), std::string::npos) << imported.error().message;
      EXPECT_NE(imported.error().message.find("disk is full"), std::string::npos) << imported.error().message;
      EXPECT_EQ(store.export_table().value_or_throw(), before) << "part of the failed import is visible";
    }
    EXPECT_EQ(integrity_check(db_path), "ok");
    auto reopened = Store::open(db_path).value_or_throw();
    EXPECT_EQ(reopened.export_table().value_or_throw(), before);
    EXPECT_EQ(reopened.stats().value_or_throw().best_entries, 1);
    EXPECT_EQ(reopened.measurements_for(tuning.tuning_key).value_or_throw().size(), 60u);
    // With room again the same import goes through whole.
    auto again = reopened.import_table(table);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->entries_added, 9000u);
    EXPECT_EQ(reopened.stats().value_or_throw().best_entries, 9001);
  }
}

TEST_F(StoreFaults, ACheckpointIntoAFullDiskLosesNoCommittedBatch) {
  // In WAL mode a commit only appends to the -wal file; copying pages back into the main file (the
  // checkpoint: automatic past 1000 WAL pages, and when the last connection closes) is where the
  // main file is written. Make exactly those writes fail — at once, or torn after a few pages.
  for (const std::int64_t budget : {std::int64_t{0}, std::int64_t{3 * 4096 + 100}}) {
    SCOPED_TRACE("main file full after " + std::to_string(budget) + " bytes");
    std::filesystem::remove(db_path);
    std::vector<Measurement> expected;
    {
      Store store = committed_store(1, 10);
      for (auto& m : make_batch(tuning, 0, 10).measurements) expected.push_back(m);
      vfs->arm({.write_bytes_left = budget, .only_files_ending_with = "/store.db"});
      for (int b = 1; b <= 3; ++b) {  // ~5 MB of WAL: past the automatic checkpoint threshold
        const Status ok = store.record_measurements(make_batch(tuning, b, 12000));
        // The commit itself is in the WAL and succeeds; the failed checkpoint is not its error.
        ASSERT_TRUE(ok.ok()) << ok.error().message;
        for (auto& m : make_batch(tuning, b, 12000).measurements) expected.push_back(m);
      }
      EXPECT_GT(vfs->counters().failures, 0) << "no checkpoint reached the main file";
      EXPECT_EQ(store.stats().value_or_throw().measurements, static_cast<std::int64_t>(expected.size()));
    }  // closing checkpoints again, into the still-full disk
    EXPECT_TRUE(std::filesystem::exists(db_path.string() + "-wal"))
        << "the WAL was dropped although the checkpoint failed";
    vfs->disarm();
    expect_exactly(expected);
  }
}

TEST_F(StoreFaults, ATuningSessionOnAFullDiskSaysSoAndKeepsWhatItCommitted) {
  const KernelSpec spec =
      KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
  const TuningQuestion question{
      &spec, {{"M", 2048}, {"N", 2048}, {"K", 2048}}, {"NVIDIA H100 80GB HBM3", "sm_90"}, {"13.0"}};
  StoreOptions read_only;
  read_only.read_only = true;
  auto recorded = Store::open(std::string(KTUNE_SOURCE_DIR) + "/tests/data/h100-sgemm.db", read_only).value_or_throw();
  auto evaluator = ReplayEvaluator::from_store(recorded, question).value_or_throw();
  const SearchSpace space = SearchSpace::build(spec.space, &question.sizes).value_or_throw();
  const std::string key = question.tuning_record().tuning_key;

  // The disk fills up after 40 evaluations and stays full.
  {
    auto store = Store::open(db_path).value_or_throw();
    auto strategy = make_exhaustive(space);
    std::size_t seen = 0;
    TuneHooks hooks;
    hooks.on_evaluation = [&](const Evaluation&) {
      if (++seen == 40) vfs->arm({.write_bytes_left = 0});
    };
    auto ledger = MeasurementLedger::open(question, &store).value_or_throw();
    auto report = TuningSession(question, space, *strategy, *evaluator, ledger, {}, hooks).run();
    vfs->disarm();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error().code, Errc::io);
    const std::string& message = report.error().message;
    EXPECT_EQ(message.rfind("tuning finished but the store could not be written: store '" + db_path.string() + "'", 0),
              0u)
        << message;
    EXPECT_NE(message.find("database or disk is full"), std::string::npos) << message;
    EXPECT_NE(message.find("(188 measurements were not saved)"), std::string::npos) << message;
    EXPECT_EQ(seen, 228u) << "the session stopped instead of finishing";
  }
  EXPECT_EQ(integrity_check(db_path), "ok");
  {
    auto store = Store::open(db_path).value_or_throw();
    EXPECT_EQ(store.measurements_for(key).value_or_throw().size(), 40u);
    EXPECT_FALSE(store.best(key).value_or_throw().has_value());
    // The rerun, with room again, starts from the 40.
    auto strategy = make_exhaustive(space);
    auto ledger = MeasurementLedger::open(question, &store).value_or_throw();
    auto report = TuningSession(question, space, *strategy, *evaluator, ledger, {}).run();
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(report->from_store, 40u);
    EXPECT_EQ(report->evaluated, 188u);
    EXPECT_EQ(report->best, evaluator->best_recorded()->first);
  }
}

TEST_F(StoreFaults, ADiskThatFillsUpAndFreesUpDuringASessionLosesNothing) {
  const KernelSpec spec =
      KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
  const TuningQuestion question{
      &spec, {{"M", 1024}, {"N", 1024}, {"K", 1024}}, {"NVIDIA H100 80GB HBM3", "sm_90"}, {"13.0"}};
  StoreOptions read_only;
  read_only.read_only = true;
  auto recorded = Store::open(std::string(KTUNE_SOURCE_DIR) + "/tests/data/h100-sgemm.db", read_only).value_or_throw();
  auto evaluator = ReplayEvaluator::from_store(recorded, question).value_or_throw();
  const SearchSpace space = SearchSpace::build(spec.space, &question.sizes).value_or_throw();
  {
    auto store = Store::open(db_path).value_or_throw();
    auto strategy = make_exhaustive(space);
    std::size_t seen = 0;
    TuneHooks hooks;
    hooks.on_evaluation = [&](const Evaluation&) {
      ++seen;
      if (seen == 10) vfs->arm({.write_bytes_left = 0});
      if (seen == 30) vfs->disarm();  // someone freed space
    };
    auto ledger = MeasurementLedger::open(question, &store).value_or_throw();
    auto report = TuningSession(question, space, *strategy, *evaluator, ledger, {}, hooks).run();
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(report->evaluated, 228u);
  }
  EXPECT_EQ(integrity_check(db_path), "ok");
  auto store = Store::open(db_path).value_or_throw();
  const auto rows = store.measurements_for(question.tuning_record().tuning_key).value_or_throw();
  std::set<Config> distinct;
  for (const auto& m : rows) distinct.insert(m.config);
  EXPECT_EQ(rows.size(), 228u);
  EXPECT_EQ(distinct.size(), 228u);
  EXPECT_TRUE(store.best(question.tuning_record().tuning_key).value_or_throw().has_value());
}

}  // namespace
}  // namespace ktune::store
