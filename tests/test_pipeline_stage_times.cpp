// A pipeline's per-kernel times reach the callers (`ktune tune --json` best_stages, and here the
// C++ TuneReport and the C API's answers): a tuning answered by the store's exact entry reads each
// kernel's median from the winner's measurement. No GPU: the store is written as a tuning would
// have left it (the real store, the engine's own keys), and the engine answers from it.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine.hpp"
#include "engine/ktune.h"
#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"
#include "tests/helpers/engine_on_recording.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using ktune::testing::kRecordedH100;
using ktune::testing::ScratchDir;

const std::filesystem::path kExample = std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "reduce_two_stage.json";
const Sizes kSizes{{"N", 1000000}};

// What a tuning of the example on the recorded H100 would have stored: two measurements (the
// winner with each kernel's median, a slower one) and the winner as the table's entry.
Config store_a_tuning(const std::filesystem::path& store_path, const KernelSpec& spec) {
  TuningQuestion question{&spec, kSizes, kRecordedH100, Toolchain{"13.0"}};
  auto db = store::Store::open(store_path).value_or_throw();
  EXPECT_TRUE(db.put_kernel(question.kernel_record()).ok());
  Config best = spec.default_config;
  for (auto& [name, value] : best)
    if (name == "BLOCKS") value = 512;
  store::Measurement winner;
  winner.config = best;
  winner.timing = store::TimingStats{12000, 11800, 12100, 60, 40, "cupti"};
  winner.stage_median_ns = {9000, 2500};
  winner.verification = question.verification();
  store::Measurement slower = winner;
  slower.config = spec.default_config;
  slower.timing->median_ns = 15000;
  slower.stage_median_ns = {11000, 3500};
  store::MeasurementBatch batch{question.tuning_record(), {slower, winner}, question.measurement_key()};
  EXPECT_TRUE(db.record_measurements(batch).ok());
  store::BestRecord entry;
  entry.tuning = question.tuning_record();
  entry.config = best;
  entry.time_ns = 12000;
  entry.strategy = "random";
  entry.evaluations = 2;
  entry.ktune_version = "test";
  auto put = db.put_best(entry);
  EXPECT_TRUE(put.ok()) << put.error().message;
  return best;
}

TEST(PipelineStageTimes, AnExactAnswerCarriesEachKernelsMedianFromTheWinnersMeasurement) {
  ScratchDir dir("ktune-stage-times");
  const KernelSpec spec = KernelSpec::from_file(kExample).value_or_throw();
  const Config best = store_a_tuning(dir / "store.db", spec);
  auto engine = Engine::create(ktune::testing::recorded_engine_options(dir)).value_or_throw();
  auto outcome = engine->tune(spec, kSizes, TuneOptions{});
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_TRUE(outcome->answered_from_lookup);
  EXPECT_EQ(outcome->report.best, best);
  EXPECT_EQ(outcome->report.best_ns, 12000);
  EXPECT_EQ(outcome->report.best_stage_ns, (std::vector<double>{9000, 2500}));
}

TEST(PipelineStageTimes, TheCApisLookupAnswerHasNoKernelTimesAndBadIndicesAreErrors) {
  // ktune_tune's answers carry them (it needs a GPU: tests/test_gpu_setup_kernels.cpp); the
  // lookup table keeps the pipeline's time only.
  ScratchDir dir("ktune-stage-times-c");
  const KernelSpec spec = KernelSpec::from_file(kExample).value_or_throw();
  store_a_tuning(dir / "store.db", spec);
  ktune_engine* c_engine = nullptr;
  const std::string store = (dir / "store.db").string();
  ASSERT_EQ(ktune_engine_create(store.c_str(), &c_engine), KTUNE_OK) << ktune_last_error_message();
  ktune_spec* c_spec = nullptr;
  ASSERT_EQ(ktune_spec_load_file(kExample.c_str(), &c_spec), KTUNE_OK);
  const char* names[] = {"N"};
  const int64_t values[] = {1000000};
  ktune_answer* answer = nullptr;
  ASSERT_EQ(ktune_lookup(c_engine, c_spec, names, values, 1, "NVIDIA H100 80GB HBM3", "sm_90", &answer), KTUNE_OK)
      << ktune_last_error_message();
  size_t count = 99;
  ASSERT_EQ(ktune_answer_stage_count(answer, &count), KTUNE_OK);
  EXPECT_EQ(count, 0u);
  const char* entry = nullptr;
  double time_ns = 0;
  EXPECT_EQ(ktune_answer_stage_time_ns(answer, 0, &entry, &time_ns), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(ktune_last_error_message(), "ktune_answer_stage_time_ns: index 0 is out of range (the answer has 0 kernel times)");
  EXPECT_EQ(ktune_answer_stage_count(nullptr, &count), KTUNE_ERROR_INVALID_ARGUMENT);
  ktune_answer_destroy(answer);
  ktune_spec_destroy(c_spec);
  ktune_engine_destroy(c_engine);
}

}  // namespace
