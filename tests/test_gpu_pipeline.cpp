// A pipeline on a GPU, through the whole engine (spec → one compile per configuration → runner
// launching both kernels in order → verification of the pipeline's outputs → store): the
// two-stage reduction example tuned end to end against its naive reference kernel, each kernel's
// time recorded and never above the pipeline's; and a pipeline whose second kernel is wrong is
// caught, since outputs are compared after the whole pipeline. Skips without a driver.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "store/store.hpp"
#include "tests/helpers/gpu_engine_test.hpp"

namespace {

using namespace ktune;

class GpuPipeline : public ktune::testing::GpuEngineTest {
 protected:
  // The example, with its parameter lists cut to what this device launches (threads per block
  // from the device, not from one card).
  KernelSpec example() const {
    std::ifstream in(std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "reduce_two_stage.json");
    nlohmann::json spec = nlohmann::json::parse(in);
    for (const char* param : {"BLOCK", "FINAL_BLOCK"}) {
      nlohmann::json fitting = nlohmann::json::array();
      for (const auto& v : spec["params"][param])
        if (v.get<int>() <= device_.max_threads_per_block) fitting.push_back(v);
      spec["params"][param] = fitting;
    }
    spec["source"] = (std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "reduce_two_stage.cu").string();
    return KernelSpec::from_json_text(spec.dump()).value_or_throw();
  }

};

TEST_F(GpuPipeline, TheTwoStageReductionTunesEndToEndWithEachKernelsTimeRecorded) {
  const KernelSpec spec = example();
  // Enough elements that every block of stage 1 has work at the largest BLOCKS, and that the
  // input outgrows the L2 of any current GPU (the flush between samples is what makes it cold).
  const std::int64_t n = std::max<std::int64_t>(std::int64_t{1} << 24, 2 * static_cast<std::int64_t>(device_.l2_cache_bytes) / 4);
  TuneOptions options;
  options.strategy = "random";
  options.random_count = 16;
  options.force = true;
  std::size_t ok = 0, pruned = 0;
  std::vector<Evaluation> seen;
  options.hooks.on_evaluation = [&](const Evaluation& e) { seen.push_back(e); };
  auto outcome = engine_->tune(spec, {{"N", n}}, options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  for (const auto& e : seen) {
    const auto& m = e.measurement;
    EXPECT_NE(m.status, MeasurementStatus::wrong_result) << format_named(m.config) << ": " << m.message;
    if (m.status == MeasurementStatus::pruned) ++pruned;  // far slower than the best: fewer samples
    if (m.status != MeasurementStatus::ok) continue;
    ++ok;
    ASSERT_EQ(m.stage_median_ns.size(), 2u) << format_named(m.config);
    for (double stage : m.stage_median_ns) {
      EXPECT_GT(stage, 0.0) << format_named(m.config);
      // Every sample of the pipeline spans each of its kernels, so its median does too.
      EXPECT_GE(m.timing->median_ns, stage) << format_named(m.config);
    }
  }
  EXPECT_GE(ok, 4u);
  EXPECT_GE(ok + pruned, 14u);  // every configuration launches on any GPU (block sizes from the device)
  EXPECT_EQ(outcome->report.verified_against, "reference kernel reduce_reference (reduce_two_stage.cu)");
  ASSERT_EQ(outcome->report.best_stage_ns.size(), 2u);
  EXPECT_GE(outcome->report.best_ns, outcome->report.best_stage_ns[0]);
  EXPECT_GE(outcome->report.best_ns, outcome->report.best_stage_ns[1]);

  // The store kept each kernel's time with the measurement.
  engine_.reset();
  auto store = store::Store::open(dir_ / "store.db").value_or_throw();
  auto records = store.export_records().value_or_throw();
  std::size_t with_stages = 0;
  for (const auto& batch : records.measurements)
    for (const auto& m : batch.measurements) with_stages += m.stage_median_ns.size() == 2 ? 1 : 0;
  EXPECT_GE(with_stages, ok);
  std::printf("reduce_two_stage N=%lld: best %s %.1f us (reduce_partial %.1f us, reduce_final %.1f us), %zu ok\n",
              static_cast<long long>(n), format_named(outcome->report.best).c_str(), outcome->report.best_ns / 1e3,
              outcome->report.best_stage_ns[0] / 1e3, outcome->report.best_stage_ns[1] / 1e3, ok);
}

TEST_F(GpuPipeline, AWrongSecondKernelIsCaughtAfterThePipeline) {
  KernelSpec spec = example();
  // reduce_final forgets the first partial sum: the first kernel alone is right, the pipeline is not.
  const std::string correct = "for (int i = threadIdx.x; i < blocks; i += FINAL_BLOCK)";
  const auto at = spec.source.find(correct);
  ASSERT_NE(at, std::string::npos);
  spec.source.replace(at, correct.size(), "for (int i = threadIdx.x + 1; i < blocks; i += FINAL_BLOCK)");
  TuneOptions options;
  options.strategy = "random";
  options.random_count = 4;
  options.force = true;
  std::size_t wrong = 0, evaluated = 0;
  options.hooks.on_evaluation = [&](const Evaluation& e) {
    ++evaluated;
    if (e.measurement.status != MeasurementStatus::wrong_result) return;
    ++wrong;
    EXPECT_NE(e.measurement.message.find("out: 1 of 1 elements differ from the reference (reference kernel reduce_reference)"),
              std::string::npos)
        << e.measurement.message;
  };
  auto outcome = engine_->tune(spec, {{"N", std::int64_t{1} << 22}}, options);
  EXPECT_FALSE(outcome.ok());  // no configuration is right
  EXPECT_GT(evaluated, 0u);
  EXPECT_EQ(wrong, evaluated);
}

}  // namespace
