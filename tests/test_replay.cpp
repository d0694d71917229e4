// Strategies on real data: exhaustive sweeps of the example SGEMM recorded on an H100
// (tests/data/h100-sgemm.db, 2026-11-22, 4 problem sizes x 228 configurations). Coordinate descent
// must reach within 2 % of the exhaustive best with at most 25 % of the evaluations.
#include <gtest/gtest.h>

#include "engine/replay.hpp"
#include "store/store.hpp"

namespace {

using namespace ktune;

const DeviceSignature kH100{"NVIDIA H100 80GB HBM3", "sm_90"};
const Toolchain kRecordedWith{"13.0"};

struct Recording : ::testing::Test {
  void SetUp() override {
    spec = KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
    store::StoreOptions options;
    options.read_only = true;
    auto opened = store::Store::open(std::string(KTUNE_SOURCE_DIR) + "/tests/data/h100-sgemm.db", options);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    recorded.emplace(std::move(*opened));
  }
  KernelSpec spec;
  std::optional<store::Store> recorded;
};

const Sizes kSizes[] = {{{"M", 4096}, {"N", 4096}, {"K", 4096}},
                        {{"M", 1024}, {"N", 1024}, {"K", 1024}},
                        {{"M", 2048}, {"N", 2048}, {"K", 2048}},
                        {{"M", 4096}, {"N", 4096}, {"K", 1024}}};

TEST_F(Recording, CoordinateDescentNearlyMatchesExhaustiveAtAQuarterOfTheCost) {
  for (const auto& sizes : kSizes) {
    SCOPED_TRACE(format_named(sizes));
    TuneOptions options;  // coordesc from the spec default: deterministic
    auto report = replay(spec, sizes, kH100, kRecordedWith, *recorded, options);
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(report->recorded, 228u);
    EXPECT_GE(report->quality(), 0.98) << "found " << format_named(report->run.best) << " at " << report->run.best_ns
                                       << " ns, exhaustive best " << format_named(report->recorded_best) << " at "
                                       << report->recorded_best_ns << " ns";
    EXPECT_LE(report->run.evaluated, report->recorded / 4);
    std::printf("%s: coordesc %zu evaluations (%.0f %%), quality %.3f\n", format_named(sizes).c_str(), report->run.evaluated,
                100.0 * static_cast<double>(report->run.evaluated) / static_cast<double>(report->recorded), report->quality());
  }
}

TEST_F(Recording, ExhaustiveReplayFindsTheRecordedBest) {
  TuneOptions options;
  options.strategy = "exhaustive";
  auto report = replay(spec, kSizes[2], kH100, kRecordedWith, *recorded, options).value_or_throw();
  EXPECT_EQ(report.run.evaluated, 228u);
  EXPECT_EQ(report.run.best, report.recorded_best);
}

TEST_F(Recording, UnrecordedQuestionsAreAClearError) {
  TuneOptions options;
  auto other_size = replay(spec, {{"M", 100}, {"N", 100}, {"K", 100}}, kH100, kRecordedWith, *recorded, options);
  ASSERT_FALSE(other_size.ok());
  EXPECT_EQ(other_size.error().code, Errc::not_found);
  EXPECT_NE(other_size.error().message.find("no recorded measurements"), std::string::npos);
}

}  // namespace
