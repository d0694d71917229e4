// Merging whole stores (StoreFile::merge_from, `ktune merge`): what sweep shards and MPI ranks
// tuned separately becomes one store — every measurement once, the lookup table with import's
// checks and conflict policies, one transaction per source, the sources never changed. The stores
// are real: replayed sweeps of recorded H100 SGEMM measurements (no GPU).
#include <gtest/gtest.h>

#include <fstream>

#include "engine/store_file.hpp"
#include "engine/sweep_runner.hpp"
#include "store/store.hpp"
#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using ktune::testing::ScratchDir;

const std::filesystem::path kRoot = KTUNE_SOURCE_DIR;
const std::filesystem::path kRecording = kRoot / "tests/data/h100-sgemm.db";
const std::filesystem::path kSweep = kRoot / "tests/data/sweeps/h100-sgemm-replay.json";

// The runs `runs` (plan order) of the recorded sweep, tuned into `store`.
void sweep_into(const std::filesystem::path& store, std::vector<std::size_t> runs) {
  SweepOptions options;
  options.store_path = store;
  options.replay = EngineOptions::Recording{kRecording, {"NVIDIA H100 80GB HBM3", "sm_90"}, {"13.0"}};
  auto runner = SweepRunner::create(options).value_or_throw();
  SweepRunOptions run_options;
  run_options.runs = std::move(runs);
  const SweepResult result = runner->run(load_sweep(kSweep).value_or_throw(), run_options);
  ASSERT_EQ(result.totals.failed, 0u);
}

StoreStats stats_of(const std::filesystem::path& path) { return StoreFile::open_read_only(path).value_or_throw().stats().value_or_throw(); }
TableDocument table_of(const std::filesystem::path& path) {
  return StoreFile::open_read_only(path).value_or_throw().export_table().value_or_throw();
}
std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class StoreMerge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir("ktune-store-merge");
    sweep_into(*dir_ / "a.db", {0, 1});
    sweep_into(*dir_ / "b.db", {2, 3, 4});
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path a() { return *dir_ / "a.db"; }
  static std::filesystem::path b() { return *dir_ / "b.db"; }
  ScratchDir scratch{"ktune-store-merge-target"};
  static ScratchDir* dir_;
};
ScratchDir* StoreMerge::dir_ = nullptr;

TEST_F(StoreMerge, TwoStoresBecomeOneAndMergingAgainChangesNothing) {
  const StoreStats sa = stats_of(a()), sb = stats_of(b());
  ASSERT_EQ(sa.best_entries, 2);
  ASSERT_EQ(sb.best_entries, 3);
  const std::string a_bytes = bytes_of(a());
  auto target = StoreFile::open(scratch / "merged.db").value_or_throw();
  auto first = target.merge_from(a()).value_or_throw();
  EXPECT_EQ(first.kernels_added, 1u);
  EXPECT_EQ(first.entries_added, 2u);
  EXPECT_EQ(first.measurements_added, static_cast<std::size_t>(sa.measurements));
  auto second = target.merge_from(b()).value_or_throw();
  EXPECT_EQ(second.kernels_added, 1u);  // the BK 8-16 space is another kernel
  EXPECT_EQ(second.entries_added, 3u);
  EXPECT_EQ(second.measurements_added, static_cast<std::size_t>(sb.measurements));

  const StoreStats merged = target.stats().value_or_throw();
  EXPECT_EQ(merged.kernels, 2);
  EXPECT_EQ(merged.best_entries, 5);
  EXPECT_EQ(merged.measurements, sa.measurements + sb.measurements);
  // Every entry of each source is there, as it was.
  const TableDocument table = target.export_table().value_or_throw();
  for (const auto& source : {a(), b()})
    for (const BestRecord& entry : table_of(source).entries)
      EXPECT_NE(std::find(table.entries.begin(), table.entries.end(), entry), table.entries.end()) << entry.tuning.tuning_key;

  // Again: nothing added, everything recognised.
  auto again = target.merge_from(a()).value_or_throw();
  EXPECT_EQ(again.entries_added + again.entries_replaced + again.measurements_added + again.kernels_added, 0u);
  EXPECT_EQ(again.entries_unchanged, 2u);
  EXPECT_EQ(again.measurements_present, static_cast<std::size_t>(sa.measurements));
  EXPECT_EQ(target.stats().value_or_throw().measurements, merged.measurements);
  EXPECT_EQ(bytes_of(a()), a_bytes) << "a source is read, never written";
}

TEST_F(StoreMerge, MeasurementsOfARunWithoutAnEntryAreCarriedAndResumeIt) {
  // A run killed half-way leaves measurements and no lookup-table entry: they are merged too, so
  // tuning that run against the merged store answers them from the store instead of measuring again.
  const auto partial = scratch / "partial.db";
  {
    auto records = store::Store::open(a()).value_or_throw().export_records().value_or_throw();
    records.table.entries.clear();
    records.measurements.resize(1);
    records.measurements[0].measurements.resize(100);
    auto store = store::Store::open(partial).value_or_throw();
    ASSERT_TRUE(store.import_records(records).ok());
  }
  auto target = StoreFile::open(scratch / "merged.db").value_or_throw();
  auto summary = target.merge_from(partial).value_or_throw();
  EXPECT_EQ(summary.entries_added, 0u);
  EXPECT_EQ(summary.measurements_added, 100u);
  SweepOptions options;
  options.store_path = scratch / "merged.db";
  options.replay = EngineOptions::Recording{kRecording, {"NVIDIA H100 80GB HBM3", "sm_90"}, {"13.0"}};
  SweepRunOptions run_options;
  run_options.runs = std::vector<std::size_t>{0};
  const SweepResult result = SweepRunner::create(options).value_or_throw()->run(load_sweep(kSweep).value_or_throw(), run_options);
  ASSERT_EQ(result.runs.size(), 1u);
  ASSERT_FALSE(result.runs[0].failed()) << result.runs[0].error;
  EXPECT_EQ(result.runs[0].outcome->report.from_store, 100u);
  EXPECT_EQ(result.runs[0].outcome->report.evaluated, 128u);
}

// A copy of a() whose entries are `factor` times slower and tuned later.
std::filesystem::path slower_copy(const ScratchDir& dir, const std::filesystem::path& source, double factor) {
  const auto path = dir / "slower.db";
  auto records = store::Store::open(source).value_or_throw().export_records().value_or_throw();
  for (auto& e : records.table.entries) {
    e.time_ns *= factor;
    e.tuned_at += 10;
  }
  auto store = store::Store::open(path).value_or_throw();
  EXPECT_TRUE(store.import_records(records).ok());
  return path;
}

TEST_F(StoreMerge, ConflictsAreSettledByImportsPolicies) {
  const auto slower = slower_copy(scratch, a(), 2.0);
  const TableDocument original = table_of(a());
  for (const auto& [policy, take] : {std::pair{ConflictPolicy::keep_faster, false}, {ConflictPolicy::keep_newer, true},
                                     {ConflictPolicy::replace, true}}) {
    const auto target_path = scratch / ("target-" + std::string(store::to_string(policy)) + ".db");
    auto target = StoreFile::open(target_path).value_or_throw();
    ASSERT_TRUE(target.merge_from(a()).ok());
    auto summary = target.merge_from(slower, {policy}).value_or_throw();
    EXPECT_EQ(summary.entries_replaced, take ? 2u : 0u) << store::to_string(policy);
    EXPECT_EQ(summary.entries_kept, take ? 0u : 2u) << store::to_string(policy);
    EXPECT_EQ(summary.measurements_added, 0u) << "the copy's measurements are the same rows";
    const TableDocument merged = target.export_table().value_or_throw();
    EXPECT_EQ(merged.entries == original.entries, !take) << store::to_string(policy);
  }
}

TEST_F(StoreMerge, UnderFailAConflictMergesNothingOfThatSource) {
  const auto slower = slower_copy(scratch, a(), 2.0);
  auto target = StoreFile::open(scratch / "merged.db").value_or_throw();
  ASSERT_TRUE(target.merge_from(a()).ok());
  const StoreStats before = target.stats().value_or_throw();
  // The slower copy also brings new measurements: none of them may land.
  {
    auto store = store::Store::open(slower).value_or_throw();
    auto records = store::Store::open(b()).value_or_throw().export_records().value_or_throw();
    records.table.entries.clear();
    ASSERT_TRUE(store.import_records(records).ok());
  }
  auto failed = target.merge_from(slower, {ConflictPolicy::fail});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::conflict);
  EXPECT_NE(failed.error().message.find("already holds a different entry"), std::string::npos) << failed.error().message;
  const StoreStats after = target.stats().value_or_throw();
  EXPECT_EQ(after.measurements, before.measurements);
  EXPECT_EQ(after.kernels, before.kernels);
  EXPECT_EQ(target.export_table().value_or_throw(), table_of(a()));
}

// What rank 0 of an MPI sweep does with the runs that finished while it was merging: all of them
// in one transaction, each kernel once, the same store as merging them one by one.
TEST_F(StoreMerge, SeveralSourcesAtOnceGiveWhatOneByOneGives) {
  auto one_by_one = StoreFile::open(scratch / "one-by-one.db").value_or_throw();
  ASSERT_TRUE(one_by_one.merge_from(a()).ok());
  ASSERT_TRUE(one_by_one.merge_from(b()).ok());
  // Runs 0-3 are one kernel, 4-7 another: a and b share the first, b and c the second, and each
  // kernel record must be kept once.
  const auto c = scratch / "c.db";
  sweep_into(c, {5});
  ASSERT_TRUE(one_by_one.merge_from(c).ok());

  auto together = StoreFile::open(scratch / "together.db").value_or_throw();
  auto summary = together.merge_from(std::vector<std::filesystem::path>{a(), b(), c}).value_or_throw();
  const StoreStats expected = one_by_one.stats().value_or_throw();
  EXPECT_EQ(summary.entries_added, static_cast<std::size_t>(expected.best_entries));
  EXPECT_EQ(summary.kernels_added, static_cast<std::size_t>(expected.kernels));
  EXPECT_EQ(summary.measurements_added, static_cast<std::size_t>(expected.measurements));
  EXPECT_EQ(together.export_table().value_or_throw(), one_by_one.export_table().value_or_throw());
  EXPECT_EQ(together.stats().value_or_throw().measurements, expected.measurements);
}

TEST_F(StoreMerge, SeveralSourcesWithOneTuningKeyTwiceMergeNothing) {
  // The slower copy of a holds a's tuning keys: together they are not one merge but a conflict,
  // which only merging them one at a time (under a policy) settles.
  const auto slower = slower_copy(scratch, a(), 2.0);
  auto target = StoreFile::open(scratch / "merged.db").value_or_throw();
  ASSERT_TRUE(target.merge_from(b()).ok());
  const StoreStats before = target.stats().value_or_throw();
  auto failed = target.merge_from(std::vector<std::filesystem::path>{a(), slower});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("appears twice"), std::string::npos) << failed.error().message;
  const StoreStats after = target.stats().value_or_throw();
  EXPECT_EQ(after.measurements, before.measurements);
  EXPECT_EQ(after.best_entries, before.best_entries);
  EXPECT_EQ(target.merge_from(std::vector<std::filesystem::path>{scratch / "missing.db"}).error().code, Errc::not_found);
}

TEST_F(StoreMerge, ASourceIsCheckedLikeAnImportedTable) {
  // An entry whose configuration the kernel does not allow (BM 999 is not in its list) is refused
  // by the same meaning check `ktune import` applies; nothing of that source is written.
  const auto poisoned = scratch / "poisoned.db";
  {
    auto records = store::Store::open(a()).value_or_throw().export_records().value_or_throw();
    records.table.entries[0].config[0].second = 999;
    auto store = store::Store::open(poisoned).value_or_throw();
    ASSERT_TRUE(store.import_records(records).ok());
  }
  auto target = StoreFile::open(scratch / "merged.db").value_or_throw();
  auto failed = target.merge_from(poisoned);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("999"), std::string::npos) << failed.error().message;
  EXPECT_EQ(target.stats().value_or_throw().measurements, 0);
  EXPECT_EQ(target.stats().value_or_throw().kernels, 0);
}

TEST_F(StoreMerge, RefusesItselfAMissingFileAndAFileThatIsNotAStore) {
  auto target = StoreFile::open(scratch / "merged.db").value_or_throw();
  ASSERT_TRUE(target.merge_from(a()).ok());
  const StoreStats before = target.stats().value_or_throw();
  auto self = target.merge_from(scratch.path / "." / "merged.db");
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.error().message.find("is the store being merged into"), std::string::npos) << self.error().message;
  EXPECT_EQ(target.merge_from(scratch / "missing.db").error().code, Errc::not_found);
  auto json = target.merge_from(kRoot / "tests/data/sgemm-table.json");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.error().message.find("not a ktune store"), std::string::npos) << json.error().message;
  EXPECT_EQ(target.stats().value_or_throw().measurements, before.measurements);
}

TEST_F(StoreMerge, TheCommandMergesInOrderAndStopsAtABadSourceWithOneLine) {
  using ktune::testing::run_ktune;
  const std::string into = (scratch / "merged.db").string();
  auto ok = run_ktune("merge " + a().string() + " " + b().string() + " --into " + into);
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("merged " + a().string() + " into " + into + ": 1 kernels added, 2 entries added"), std::string::npos)
      << ok.output;
  EXPECT_EQ(stats_of(into).best_entries, 5);

  const auto slower = slower_copy(scratch, a(), 2.0);
  auto bad = run_ktune("merge " + b().string() + " " + slower.string() + " --into " + into + " --on-conflict fail");
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_NE(bad.output.find("ktune: error: " + slower.string() + ": "), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("nothing of it was merged"), std::string::npos) << bad.output;
  EXPECT_EQ(table_of(into).entries.size(), 5u);

  auto self = run_ktune("merge " + into + " --into " + into);
  EXPECT_EQ(self.status, 1);
  EXPECT_NE(self.output.find("is the store being merged into"), std::string::npos) << self.output;
  auto missing = run_ktune("merge " + (scratch / "nope.db").string() + " --into " + (scratch / "new.db").string());
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("no such store file"), std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(scratch / "new.db")) << "nothing is created when a source is missing";
  auto no_into = run_ktune("merge " + a().string());
  EXPECT_NE(no_into.status, 0);
  EXPECT_NE(no_into.output.find("--into"), std::string::npos) << no_into.output;
}

}  // namespace
