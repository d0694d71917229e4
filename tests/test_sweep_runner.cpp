// A multi-configuration sweep through the library API (SweepRunner), with no GPU: two Engines stand
// in for two GPUs over one store file and measure by replaying real H100 SGEMM measurements
// (EngineOptions::replay). Checks what `ktune sweep` promises: every run of the plan comes
// back in plan order, a failed run does not stop the others, a rerun is answered from the lookup
// table, --force tunes again with nothing measured twice, and the totals add up.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "engine/store_file.hpp"
#include "engine/sweep_runner.hpp"
#include "engine/replay_evaluator.hpp"
#include "engine/model/tuning_question.hpp"
#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using ktune::testing::ScratchDir;

const std::filesystem::path kRoot = KTUNE_SOURCE_DIR;
const std::filesystem::path kRecording = kRoot / "tests/data/h100-sgemm.db";
const DeviceSignature kRecordedH100{"NVIDIA H100 80GB HBM3", "sm_90"};
const Toolchain kRecordedToolchain{"13.0"};

// Four sizes that were recorded on the H100 and one that was not (that run must fail alone).
constexpr const char* kSweep = R"({
  "ktune_sweep": 1,
  "items": [
    {"spec": "sgemm.json", "strategy": "exhaustive",
     "sizes": [{"M": 1024, "N": 1024, "K": 1024}, {"K": 2048, "M": 2048, "N": 2048}]},
    {"spec": "sgemm.json", "strategy": "coordesc", "budget": 40,
     "sizes": [{"M": 4096, "N": 4096, "K": 1024}, {"M": 4096, "N": 4096, "K": 4096}, {"M": 512, "N": 512, "K": 512}]}
  ]
})";

// Engines that replay the recording stand in for GPUs: everything above the measurement is real.
std::unique_ptr<SweepRunner> replaying_lanes(const std::filesystem::path& store, std::vector<int> gpus) {
  SweepOptions options;
  options.store_path = store;
  options.gpus = std::move(gpus);
  options.replay = EngineOptions::Recording{kRecording, kRecordedH100, kRecordedToolchain};
  return SweepRunner::create(options).value_or_throw();
}
std::unique_ptr<SweepRunner> two_lanes(const std::filesystem::path& store) { return replaying_lanes(store, {0, 1}); }

// The fastest recorded configuration at these sizes: what an exhaustive run must find.
std::pair<Config, double> recorded_best(const KernelSpec& spec, const Sizes& sizes) {
  store::StoreOptions read_only;
  read_only.read_only = true;
  auto recorded = store::Store::open(kRecording, read_only).value_or_throw();
  TuningQuestion question{&spec, sizes, kRecordedH100, kRecordedToolchain};
  auto evaluator = ReplayEvaluator::from_store(recorded, question).value_or_throw();
  return *evaluator->best_recorded();
}

TEST(SweepRunner, MultiConfigurationSweepOnRecordedDataResumesAndForces) {
  ScratchDir dir("ktune-sweep-runner");
  const auto store = dir / "ktune.db";
  const SweepPlan plan = parse_sweep(kSweep, kRoot / "examples").value_or_throw();
  ASSERT_EQ(plan.run_count(), 5u);

  std::set<std::size_t> finished_counts;
  std::size_t progress_calls = 0;
  std::mutex mutex;
  SweepRunOptions options;
  options.on_progress = [&](const SweepRun&, const TuneProgress&) {
    std::lock_guard lock(mutex);
    ++progress_calls;
  };
  options.on_run_done = [&](const SweepRun& run, std::size_t finished, std::size_t total) {
    EXPECT_EQ(total, 5u);
    EXPECT_LT(run.lane, 2u);
    finished_counts.insert(finished);
  };
  const SweepResult first = two_lanes(store)->run(plan, options);

  ASSERT_EQ(first.runs.size(), 5u);
  EXPECT_EQ(finished_counts, (std::set<std::size_t>{1, 2, 3, 4, 5}));
  EXPECT_GT(progress_calls, 0u);
  // Plan order, sizes in the spec's order whatever the file wrote.
  EXPECT_EQ(first.runs[1].sizes, (Sizes{{"M", 2048}, {"N", 2048}, {"K", 2048}}));
  EXPECT_EQ(first.runs[3].item, 1u);
  for (std::size_t r = 0; r < 2; ++r) {
    const SweepRun& run = first.runs[r];
    ASSERT_FALSE(run.failed()) << run.error;
    EXPECT_FALSE(run.done_earlier());
    EXPECT_EQ(run.strategy, "exhaustive");
    const auto [best, best_ns] = recorded_best(*run.spec, run.sizes);
    EXPECT_EQ(run.outcome->report.best, best) << format_named(run.sizes);
    EXPECT_DOUBLE_EQ(run.outcome->report.best_ns, best_ns);
  }
  for (std::size_t r = 2; r < 4; ++r) {
    const SweepRun& run = first.runs[r];
    ASSERT_FALSE(run.failed()) << run.error;
    EXPECT_EQ(run.strategy, "coordesc");
    EXPECT_GT(run.outcome->report.evaluated, 0u);
    EXPECT_LE(run.outcome->report.evaluated, 40u);  // the item's budget
  }
  EXPECT_TRUE(first.runs[4].failed());
  EXPECT_NE(first.runs[4].error.find("no recorded measurements"), std::string::npos) << first.runs[4].error;

  std::size_t evaluated = 0;
  for (const auto& run : first.runs)
    if (run.outcome) evaluated += run.outcome->report.evaluated;
  EXPECT_EQ(first.totals.runs, 5u);
  EXPECT_EQ(first.totals.tuned_now, 4u);
  EXPECT_EQ(first.totals.done_earlier, 0u);
  EXPECT_EQ(first.totals.failed, 1u);
  EXPECT_EQ(first.totals.evaluated, evaluated);
  EXPECT_EQ(first.totals.from_store, 0u);
  // Both lanes wrote to the one store: four lookup-table entries.
  EXPECT_EQ(StoreFile::open(store).value_or_throw().export_table().value_or_throw().entries.size(), 4u);

  // A rerun is answered from the lookup table: nothing evaluated, the same answers.
  const SweepResult again = two_lanes(store)->run(plan);
  EXPECT_EQ(again.totals.done_earlier, 4u);
  EXPECT_EQ(again.totals.tuned_now, 0u);
  EXPECT_EQ(again.totals.failed, 1u);
  EXPECT_EQ(again.totals.evaluated, 0u);
  for (std::size_t r = 0; r < 4; ++r) {
    ASSERT_TRUE(again.runs[r].done_earlier()) << r;
    EXPECT_EQ(again.runs[r].outcome->report.best, first.runs[r].outcome->report.best) << r;
  }

  // --force tunes again, but what was measured is answered from the store, never run twice.
  SweepRunOptions force;
  force.force = true;
  const SweepResult forced = two_lanes(store)->run(plan, force);
  EXPECT_EQ(forced.totals.tuned_now, 4u);
  EXPECT_EQ(forced.totals.done_earlier, 0u);
  for (std::size_t r = 0; r < 2; ++r) {
    const TuneReport& report = forced.runs[r].outcome->report;
    EXPECT_EQ(report.evaluated, 0u) << r;
    EXPECT_EQ(report.from_store, first.runs[r].outcome->report.evaluated) << r;
    EXPECT_EQ(report.best, first.runs[r].outcome->report.best) << r;
  }
}

TEST(SweepRunner, OneLaneRunsEverythingOnTheCallingThread) {
  ScratchDir dir("ktune-sweep-runner");
  const auto store = dir / "ktune.db";
  const SweepPlan plan = parse_sweep(kSweep, kRoot / "examples").value_or_throw();
  auto one_lane = replaying_lanes(store, {0});
  SweepRunner& runner = *one_lane;
  const auto caller = std::this_thread::get_id();
  SweepRunOptions options;
  options.on_run_start = [&](const SweepRun& run) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_EQ(run.lane, 0u);
  };
  const SweepResult result = runner.run(plan, options);
  EXPECT_EQ(result.totals.tuned_now, 4u);
  EXPECT_EQ(result.totals.failed, 1u);
}

TEST(SweepRunner, WithoutAGpuCreatingOneSaysSo) {
  if (ktune::testing::has_gpu_driver()) GTEST_SKIP() << "a GPU is present; the no-GPU path is not reachable";
  ScratchDir dir("ktune-sweep-runner");
  SweepOptions options;
  options.store_path = dir / "ktune.db";
  auto runner = SweepRunner::create(options);
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.error().code, Errc::no_gpu) << runner.error().message;
  options.gpus.clear();
  EXPECT_EQ(SweepRunner::create(options).error().code, Errc::invalid_argument);
}

}  // namespace
