// Setup kernels on a GPU, through the whole engine: the table_gather example, whose setup kernel
// builds a lookup table the tuned kernel reads, tunes end to end against a reference kernel that
// computes the values directly. The table holds SCALE times the values and the kernel divides by
// SCALE, so a configuration verifies only with its own setup's table: setup kernels run per
// loaded configuration, not once per problem. A setup kernel that cannot launch fails its
// configuration with a message naming it. And the C API's tune answer carries a pipeline's
// per-kernel times. Skips without a driver.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "engine/ktune.h"
#include "tests/helpers/gpu_engine_test.hpp"

namespace {

using namespace ktune;

const std::filesystem::path kExamples = std::filesystem::path(KTUNE_SOURCE_DIR) / "examples";

class GpuSetupKernels : public ktune::testing::GpuEngineTest {
 protected:
  // The example, with BLOCK cut to what this device launches (from the device, not one card).
  nlohmann::json example_json() const {
    std::ifstream in(kExamples / "table_gather.json");
    nlohmann::json spec = nlohmann::json::parse(in);
    nlohmann::json fitting = nlohmann::json::array();
    for (const auto& v : spec["params"]["BLOCK"])
      if (v.get<int>() <= device_.max_threads_per_block) fitting.push_back(v);
    spec["params"]["BLOCK"] = fitting;
    spec["source"] = (kExamples / "table_gather.cu").string();
    return spec;
  }
};

TEST_F(GpuSetupKernels, TheTableGatherTunesEndToEndWithEachConfigurationsOwnTable) {
  const KernelSpec spec = KernelSpec::from_json_text(example_json().dump()).value_or_throw();
  TuneOptions options;
  options.strategy = "exhaustive";
  options.force = true;
  std::size_t ok = 0;
  std::set<std::int64_t> scales;
  options.hooks.on_evaluation = [&](const Evaluation& e) {
    const auto& m = e.measurement;
    EXPECT_NE(m.status, MeasurementStatus::wrong_result) << format_named(m.config) << ": " << m.message;
    if (m.status != MeasurementStatus::ok) return;
    ++ok;
    scales.insert(find_value(m.config, "SCALE").value());
  };
  auto outcome = engine_->tune(spec, {{"N", std::int64_t{1} << 22}}, options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome->report.verified_against, "reference kernel gather_reference (table_gather.cu)");
  EXPECT_GE(ok, 10u);  // the others may be pruned (far slower than the best: not verified)
  EXPECT_EQ(scales.size(), 3u);  // every SCALE verified, each with its own table
  std::printf("table_gather N=2^22: best %s %.1f us, %zu ok\n", format_named(outcome->report.best).c_str(),
              outcome->report.best_ns / 1e3, ok);
}

TEST_F(GpuSetupKernels, WithoutItsSetupKernelTheGatherIsWrong) {
  // The check above can fail: without the setup kernel the table is never built.
  nlohmann::json spec = example_json();
  spec.erase("setup");
  TuneOptions options;
  options.strategy = "random";
  options.random_count = 3;
  options.force = true;
  std::size_t wrong = 0, evaluated = 0;
  options.hooks.on_evaluation = [&](const Evaluation& e) {
    ++evaluated;
    if (e.measurement.status == MeasurementStatus::wrong_result) ++wrong;
  };
  auto outcome = engine_->tune(KernelSpec::from_json_text(spec.dump()).value_or_throw(), {{"N", 1 << 20}}, options);
  EXPECT_FALSE(outcome.ok());
  EXPECT_GT(evaluated, 0u);
  EXPECT_EQ(wrong, evaluated);
}

TEST_F(GpuSetupKernels, ASetupKernelThatCannotLaunchFailsItsConfigurationByName) {
  nlohmann::json spec = example_json();
  spec["setup"][0]["launch"]["block"] = nlohmann::json::array({device_.max_threads_per_block * 2});
  TuneOptions options;
  options.strategy = "random";
  options.random_count = 2;
  options.force = true;
  std::size_t named = 0, evaluated = 0;
  options.hooks.on_evaluation = [&](const Evaluation& e) {
    ++evaluated;
    EXPECT_EQ(e.measurement.status, MeasurementStatus::invalid_config) << e.measurement.message;
    if (e.measurement.message.rfind("setup[0] (build_table): ", 0) == 0) ++named;
  };
  auto outcome = engine_->tune(KernelSpec::from_json_text(spec.dump()).value_or_throw(), {{"N", 1 << 20}}, options);
  EXPECT_FALSE(outcome.ok());
  EXPECT_GT(evaluated, 0u);
  EXPECT_EQ(named, evaluated);
}

TEST_F(GpuSetupKernels, TheCApisTuneAnswerHasAPipelinesKernelTimes) {
  engine_.reset();  // the C engine uses the same store
  ktune_engine* engine = nullptr;
  const std::string store = (dir_ / "store.db").string();
  ASSERT_EQ(ktune_engine_create(store.c_str(), &engine), KTUNE_OK) << ktune_last_error_message();
  ktune_spec* spec = nullptr;
  ASSERT_EQ(ktune_spec_load_file((kExamples / "reduce_two_stage.json").c_str(), &spec), KTUNE_OK);
  const char* names[] = {"N"};
  const int64_t values[] = {1 << 22};
  ktune_tune_options options;
  ASSERT_EQ(ktune_tune_options_init(&options), KTUNE_OK);
  options.strategy = "random";
  options.max_evaluations = 4;
  ktune_answer* answer = nullptr;
  ASSERT_EQ(ktune_tune(engine, spec, names, values, 1, &options, &answer), KTUNE_OK) << ktune_last_error_message();
  double total = 0;
  ASSERT_EQ(ktune_answer_time_ns(answer, &total), KTUNE_OK);
  size_t count = 0;
  ASSERT_EQ(ktune_answer_stage_count(answer, &count), KTUNE_OK);
  ASSERT_EQ(count, 2u);
  for (size_t i = 0; i < count; ++i) {
    const char* entry = nullptr;
    double stage = 0;
    ASSERT_EQ(ktune_answer_stage_time_ns(answer, i, &entry, &stage), KTUNE_OK);
    EXPECT_STREQ(entry, i == 0 ? "reduce_partial" : "reduce_final");
    EXPECT_GT(stage, 0.0);
    EXPECT_GE(total, stage);
  }
  ktune_answer_destroy(answer);
  // Asked again: the table's exact answer, its kernel times read from the winner's measurement.
  ASSERT_EQ(ktune_tune(engine, spec, names, values, 1, &options, &answer), KTUNE_OK) << ktune_last_error_message();
  ktune_rule rule = KTUNE_RULE_TUNED;
  ASSERT_EQ(ktune_answer_rule(answer, &rule), KTUNE_OK);
  EXPECT_EQ(rule, KTUNE_RULE_EXACT);
  ASSERT_EQ(ktune_answer_stage_count(answer, &count), KTUNE_OK);
  EXPECT_EQ(count, 2u);
  ktune_answer_destroy(answer);
  ktune_spec_destroy(spec);
  ktune_engine_destroy(engine);
}

}  // namespace
