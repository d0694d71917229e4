// A named-choice parameter tuned end to end on a GPU (spec -> compile of each choice as a template
// argument -> runner -> verification -> store -> lookup): examples/scaled_add.json, whose
// compute_type is "float" or "double". Every configuration is measured and verified against the
// default; the best answers a lookup with its string. Bounds (block size) come from the device.
// Skips without a driver.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "engine/engine.hpp"
#include "tests/helpers/gpu_engine_test.hpp"

namespace {

using namespace ktune;

class GpuNamedChoices : public ktune::testing::GpuEngineTest {};

TEST_F(GpuNamedChoices, BothChoicesAreCompiledMeasuredAndVerified) {
  const KernelSpec spec =
      KernelSpec::from_file(std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "scaled_add.json").value_or_throw();
  const std::int64_t n = (1 << 20) + 3;  // a tail for every BLOCK * ITEMS
  std::set<std::string> choices_ok;
  std::size_t evaluations = 0;
  TuneOptions options;
  options.strategy = "exhaustive";
  options.force = true;
  options.hooks.on_evaluation = [&](const Evaluation& e) {
    ++evaluations;
    const std::string config = spec.space.format(e.measurement.config);
    // A block size above what this device allows is a launch limit, not a wrong result; one
    // stopped early as clearly slower than the best ran with its choice (a wrong result would say
    // so: configurations are verified before their samples, unless hopeless from their first runs).
    const auto status = e.measurement.status;
    if (status == MeasurementStatus::invalid_config) return;
    EXPECT_TRUE(status == MeasurementStatus::ok || status == MeasurementStatus::pruned) << config << ": " << e.measurement.message;
    if (status == MeasurementStatus::ok || status == MeasurementStatus::pruned)
      choices_ok.insert(spec.space.params[static_cast<std::size_t>(spec.space.param_index("compute_type"))].value_text(
          e.measurement.config.front().second));
  };
  auto outcome = engine_->tune(spec, {{"N", n}}, options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(choices_ok, (std::set<std::string>{"float", "double"}));
  EXPECT_GE(evaluations, 20u);
  EXPECT_EQ(outcome->report.verified_against, spec.describe_reference());
  const std::string best = spec.space.format(outcome->report.best);
  EXPECT_TRUE(best.find("compute_type=float") != std::string::npos || best.find("compute_type=double") != std::string::npos) << best;

  // The stored best answers a lookup, and a binary for it is compiled with its choice.
  auto device = engine_->device().value_or_throw();
  auto answer = engine_->lookup(spec, {{"N", n}}, device);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  ASSERT_NE(answer->entry, nullptr);
  EXPECT_EQ(spec.space.format(answer->entry->config), best);
  auto binary = engine_->binary(spec, {{"N", n}}, device);
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  EXPECT_EQ(spec.space.format(binary->kernel.config), best);
  EXPECT_FALSE(binary->kernel.cubin.empty());
  const Config as_double = spec.space.parse("compute_type=double BLOCK=256 ITEMS=2").value_or_throw();
  auto measured = engine_->measure(spec, {{"N", n}}, as_double, {});
  ASSERT_TRUE(measured.ok()) << measured.error().message;
  EXPECT_EQ(measured->measurement.status, MeasurementStatus::ok) << measured->measurement.message;
}

}  // namespace
