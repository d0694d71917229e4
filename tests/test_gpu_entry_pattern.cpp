// The entry chosen by a parameter, end to end on a GPU: examples/cuda_samples/cs_matrixMul_nvrtc.json
// ("entry": "matrixMulCUDA_block{BLOCK}", BLOCK 16 or 32, the launch following BLOCK). Every
// configuration is measured and verified against the naive reference kernel: a configuration that
// launched the other block size's kernel with its own geometry would compute a wrong C (each kernel
// tiles by its own BLOCK_SIZE). compile_async names each configuration's kernel. Skips without a driver.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "engine/engine.hpp"
#include "tests/helpers/gpu_engine_test.hpp"

namespace {

using namespace ktune;

class GpuEntryPattern : public ktune::testing::GpuEngineTest {};

TEST_F(GpuEntryPattern, EachBlockSizeRunsItsOwnEntryAndIsVerified) {
  const KernelSpec spec =
      KernelSpec::from_file(std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "cuda_samples" / "cs_matrixMul_nvrtc.json")
          .value_or_throw();
  const Sizes sizes{{"hA", 512}, {"wA", 256}, {"wB", 1024}};  // multiples of 32, not square: a transposed index shows
  std::set<std::int64_t> blocks_ok;
  TuneOptions options;
  options.strategy = "exhaustive";
  options.force = true;
  options.hooks.on_evaluation = [&](const Evaluation& e) {
    const auto status = e.measurement.status;
    // 32 x 32 = 1024 threads: a device with a lower limit makes that one a launch limit.
    if (status == MeasurementStatus::invalid_config && device_.max_threads_per_block < 1024) return;
    EXPECT_TRUE(status == MeasurementStatus::ok || status == MeasurementStatus::pruned)
        << spec.space.format(e.measurement.config) << ": " << e.measurement.message;
    if (status == MeasurementStatus::ok || status == MeasurementStatus::pruned) blocks_ok.insert(e.measurement.config.front().second);
  };
  auto outcome = engine_->tune(spec, sizes, options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_TRUE(blocks_ok.count(16)) << "BLOCK=16 (matrixMulCUDA_block16) was not measured correct";
  if (device_.max_threads_per_block >= 1024) {
    EXPECT_TRUE(blocks_ok.count(32));
  }
  EXPECT_EQ(outcome->report.verified_against, spec.describe_reference());

  for (const std::int64_t block : {16, 32}) {
    auto compiled = engine_->compile_async(spec, {{"BLOCK", block}}).get();
    ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    EXPECT_EQ(compiled->entry, "matrixMulCUDA_block" + std::to_string(block));  // extern "C": the name itself
  }
}

}  // namespace
