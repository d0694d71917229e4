// Lookup: the fallback chain (exact -> nearest size -> same arch -> none), the in-memory tier and
// its invalidation, concurrent lookups; and the measurement history lookups are built on.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "store/lookup.hpp"
#include "store/store.hpp"
#include "tests/helpers/store_test_support.hpp"

namespace ktune::store {
namespace {

using testing::make_best;
using testing::make_kernel;
using testing::make_tuning;
using testing::request_for;
using testing::ScratchDir;

constexpr const char* kH100 = "NVIDIA H100 80GB HBM3";
constexpr const char* kH100Pcie = "NVIDIA H100 PCIe";
constexpr const char* kA100 = "NVIDIA A100-SXM4-80GB";

Sizes mnk(std::int64_t m, std::int64_t n, std::int64_t k) { return {{"M", m}, {"N", n}, {"K", k}}; }
Config cfg(std::int64_t bm) { return {{"BM", bm}, {"BN", 64}}; }

class StoreLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.emplace(Store::open(dir_ / "ktune.db").value_or_throw());
    ASSERT_TRUE(store_->put_kernel(kernel_).ok());
  }
  Store& store() { return *store_; }
  void put(const TuningRecord& t, std::int64_t bm, double time_ns) {
    auto ok = store().put_best(make_best(t, cfg(bm), time_ns));
    ASSERT_TRUE(ok.ok()) << ok.error().message;
  }
  ScratchDir dir_;
  std::optional<Store> store_;
  KernelRecord kernel_ = make_kernel("sgemm_tiled");
};

TEST(SizeDistance, CountsFactorsOfTwoSummedOverSizes) {
  EXPECT_DOUBLE_EQ(size_distance(mnk(4096, 4096, 4096), mnk(4096, 4096, 4096)), 0.0);
  EXPECT_DOUBLE_EQ(size_distance(mnk(4096, 4096, 4096), mnk(2048, 4096, 4096)), 1.0);
  EXPECT_DOUBLE_EQ(size_distance(mnk(4096, 1024, 1), mnk(2048, 2048, 1)), 2.0);
  EXPECT_DOUBLE_EQ(size_distance({{"M", 0}}, {{"M", 1}}), 0.0);  // non-positive sizes count as 1
  // Order of names does not matter; different names are not comparable.
  EXPECT_DOUBLE_EQ(size_distance({{"M", 8}, {"N", 2}}, {{"N", 2}, {"M", 8}}), 0.0);
  EXPECT_LT(size_distance({{"M", 8}}, {{"N", 8}}), 0.0);
  EXPECT_LT(size_distance({{"M", 8}}, {{"M", 8}, {"N", 8}}), 0.0);
}

TEST_F(StoreLookup, ExactMatchReturnsTheStoredEntry) {
  const auto t = make_tuning(kernel_, mnk(4096, 4096, 4096), kH100);
  put(t, 128, 1.84e6);
  auto answer = store().lookup(request_for(t)).value_or_throw();
  EXPECT_EQ(answer.rule, LookupRule::exact);
  ASSERT_NE(answer.entry, nullptr);
  EXPECT_EQ(answer.entry->config, cfg(128));
  EXPECT_EQ(answer.entry->tuning, t);
  EXPECT_DOUBLE_EQ(answer.distance, 0.0);
}

TEST_F(StoreLookup, NothingStoredAnswersNone) {
  const auto t = make_tuning(kernel_, mnk(4096, 4096, 4096), kH100);
  auto answer = store().lookup(request_for(t)).value_or_throw();
  EXPECT_EQ(answer.rule, LookupRule::none);
  EXPECT_EQ(answer.entry, nullptr);
}

TEST_F(StoreLookup, NearestTunedSizeOnTheSameDevice) {
  put(make_tuning(kernel_, mnk(1024, 1024, 1024), kH100), 32, 6e4);
  put(make_tuning(kernel_, mnk(4096, 4096, 4096), kH100), 128, 1.8e6);
  put(make_tuning(kernel_, mnk(3000, 3000, 3000), kH100Pcie), 64, 1e6);  // exact sizes, other device
  // 3000 is 0.45 doublings below 4096 and 1.55 above 1024 (per size): 4096^3 is nearest.
  const auto wanted = make_tuning(kernel_, mnk(3000, 3000, 3000), kH100);
  auto answer = store().lookup(request_for(wanted)).value_or_throw();
  EXPECT_EQ(answer.rule, LookupRule::nearest_size);
  ASSERT_NE(answer.entry, nullptr);
  EXPECT_EQ(answer.entry->config, cfg(128));
  EXPECT_EQ(answer.entry->tuning.sizes, mnk(4096, 4096, 4096));
  EXPECT_NEAR(answer.distance, 3 * std::log2(4096.0 / 3000.0), 1e-12);
}

TEST_F(StoreLookup, SameToolchainWinsATie) {
  put(make_tuning(kernel_, mnk(2048, 2048, 2048), kH100, "sm_90", "nvrtc 12.8"), 32, 3e5);
  put(make_tuning(kernel_, mnk(2048, 2048, 2048), kH100, "sm_90", "nvrtc 13.0"), 64, 3e5);
  auto answer = store().lookup(request_for(make_tuning(kernel_, mnk(4096, 4096, 4096), kH100))).value_or_throw();
  EXPECT_EQ(answer.rule, LookupRule::nearest_size);
  ASSERT_NE(answer.entry, nullptr);
  EXPECT_EQ(answer.entry->tuning.toolchain, "nvrtc 13.0");
}

TEST_F(StoreLookup, SameArchitectureOnAnotherDeviceButNeverAnotherArch) {
  put(make_tuning(kernel_, mnk(4096, 4096, 4096), kA100, "sm_80"), 256, 3e6);
  const auto wanted = make_tuning(kernel_, mnk(4096, 4096, 4096), kH100);
  EXPECT_EQ(store().lookup(request_for(wanted)).value_or_throw().rule, LookupRule::none);

  put(make_tuning(kernel_, mnk(4096, 4096, 4096), kH100Pcie), 64, 2.5e6);
  auto answer = store().lookup(request_for(wanted)).value_or_throw();
  EXPECT_EQ(answer.rule, LookupRule::same_arch);
  ASSERT_NE(answer.entry, nullptr);
  EXPECT_EQ(answer.entry->tuning.device, kH100Pcie);
  EXPECT_EQ(answer.entry->config, cfg(64));
}

TEST_F(StoreLookup, OtherKernelsAndOtherSizeNamesAreNeverUsed) {
  const auto other = make_kernel("other_kernel");
  ASSERT_TRUE(store().put_kernel(other).ok());
  put(make_tuning(other, mnk(4096, 4096, 4096), kH100), 128, 1e6);
  put(make_tuning(kernel_, {{"M", 4096}, {"N", 4096}}, kH100), 128, 1e6);
  auto answer = store().lookup(request_for(make_tuning(kernel_, mnk(4096, 4096, 4096), kH100))).value_or_throw();
  EXPECT_EQ(answer.rule, LookupRule::none);
}

TEST_F(StoreLookup, AnswersAreCachedAndANewBestIsSeenAtOnce) {
  const auto t = make_tuning(kernel_, mnk(4096, 4096, 4096), kH100);
  put(make_tuning(kernel_, mnk(2048, 2048, 2048), kH100), 64, 5e5);
  auto first = store().lookup(request_for(t)).value_or_throw();
  EXPECT_EQ(first.rule, LookupRule::nearest_size);
  EXPECT_EQ(store().cached_answers(), 1u);
  auto again = store().lookup(request_for(t)).value_or_throw();
  EXPECT_EQ(again.entry, first.entry);  // the same shared entry: served from memory

  put(t, 128, 1.8e6);  // this store's own write invalidates the tier
  auto after = store().lookup(request_for(t)).value_or_throw();
  EXPECT_EQ(after.rule, LookupRule::exact);
  EXPECT_EQ(after.entry->config, cfg(128));
}

TEST_F(StoreLookup, WritesByAnotherConnectionAreNoticed) {
  StoreOptions options;
  options.staleness = std::chrono::milliseconds(0);
  auto reader = Store::open(dir_ / "ktune.db", options).value_or_throw();
  const auto t = make_tuning(kernel_, mnk(4096, 4096, 4096), kH100);
  EXPECT_EQ(reader.lookup(request_for(t)).value_or_throw().rule, LookupRule::none);
  put(t, 128, 1.8e6);  // through the other Store (another connection)
  auto answer = reader.lookup(request_for(t)).value_or_throw();
  EXPECT_EQ(answer.rule, LookupRule::exact);
}

TEST_F(StoreLookup, ManyThreadsGetConsistentAnswers) {
  std::vector<TuningRecord> tunings;
  for (std::int64_t m = 256; m <= 8192; m *= 2) {
    tunings.push_back(make_tuning(kernel_, mnk(m, m, m), kH100));
    put(tunings.back(), m / 4, static_cast<double>(m) * 100);
  }
  std::atomic<int> wrong{0};
  // Plain threads, not a TBB loop: ThreadSanitizer (tools/ci/sanitizers.sh) pins TBB to one CPU,
  // and these lookups must really run at the same time for it to check the lookup tier.
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w)
    threads.emplace_back([&, w] {
      for (int i = w; i < 20000; i += 8) {
        const auto& t = tunings[static_cast<std::size_t>(i) % tunings.size()];
        auto answer = store().lookup(request_for(t));
        if (!answer || answer->rule != LookupRule::exact || answer->entry->tuning.tuning_key != t.tuning_key) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(StoreLookup, MeasurementsIncludingFailuresComeBackAsRecorded) {
  const auto t = make_tuning(kernel_, mnk(4096, 4096, 4096), kH100);
  MeasurementBatch batch{t, {}, {}};
  Measurement ok;
  ok.config = cfg(128);
  ok.timing = TimingStats{1.84e6, 1.80e6, 1.85e6, 1.2e4, 31, "cupti"};
  ok.registers = 128;
  ok.shared_bytes = 34816;
  ok.compile_seconds = 0.131;
  ok.measured_at = 1795342500;
  ok.ktune_version = "0.1.0";
  Measurement failed;
  failed.config = cfg(256);
  failed.status = MeasurementStatus::compile_error;
  failed.message = "too many resources requested for launch";
  failed.compile_seconds = 0.2;
  failed.measured_at = 1795342501;
  failed.ktune_version = "0.1.0";
  batch.measurements = {ok, failed};
  ASSERT_TRUE(store().record_measurements(batch).ok());
  auto stored = store().measurements_for(t.tuning_key).value_or_throw();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0], ok);
  EXPECT_EQ(stored[1], failed);
  EXPECT_EQ(to_string(stored[1].status), "compile_error");
  EXPECT_TRUE(store().measurements_for("00000000000000000000000000000000").value_or_throw().empty());
}

TEST_F(StoreLookup, InvalidOrConflictingWritesAreRefusedAndWriteNothing) {
  const auto t = make_tuning(kernel_, mnk(4096, 4096, 4096), kH100);
  Measurement no_timing;
  no_timing.config = cfg(64);
  no_timing.ktune_version = "0.1.0";
  Measurement good = no_timing;
  good.timing = TimingStats{1e6, 1e6, 1e6, 0, 10, "events"};
  auto bad = store().record_measurements({t, {good, no_timing}, {}});  // status ok needs timing
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
  EXPECT_TRUE(store().measurements_for(t.tuning_key).value_or_throw().empty());

  auto unknown_kernel = make_tuning(make_kernel("never_put"), mnk(1, 1, 1), kH100);
  auto missing = store().record_measurements({unknown_kernel, {good}, {}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);

  // The same tuning key for different sizes is a caller bug, not something to overwrite.
  ASSERT_TRUE(store().record_measurements({t, {good}, {}}).ok());
  auto clash = t;
  clash.sizes = mnk(1, 2, 3);
  auto conflict = store().record_measurements({clash, {good}, {}});
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, Errc::conflict);
  EXPECT_EQ(store().measurements_for(t.tuning_key).value_or_throw().size(), 1u);

  auto tampered = kernel_;
  tampered.kernel_json += " ";
  auto rejected = store().put_kernel(tampered);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, Errc::invalid_argument);  // key no longer matches the text
}

}  // namespace
}  // namespace ktune::store
