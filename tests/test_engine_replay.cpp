// The library API on recorded measurements (EngineOptions::replay: real H100 SGEMM measurements
// from tests/data/h100-sgemm.db, no GPU): request merging as callers see it through tune_async —
// requests that differ only in their stop rule are two tunings, an identical request joins the one
// in flight and every waiter's hooks fire — and lookups answered from what was tuned.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "engine/engine.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using ktune::testing::ScratchDir;

const std::filesystem::path kRoot = KTUNE_SOURCE_DIR;
const DeviceSignature kRecordedH100{"NVIDIA H100 80GB HBM3", "sm_90"};

struct EngineOnRecordedData : ::testing::Test {
  void SetUp() override {
    EngineOptions options;
    options.store_path = dir / "store.db";
    options.replay = EngineOptions::Recording{kRoot / "tests/data/h100-sgemm.db", kRecordedH100, Toolchain{"13.0"}};
    engine = Engine::create(options).value_or_throw();
    spec = KernelSpec::from_file(kRoot / "examples/sgemm.json").value_or_throw();
  }
  // A request whose first evaluation waits at a gate: while it waits, the request is in flight.
  TuneOptions gated(std::shared_future<void> gate) {
    TuneOptions options;
    options.strategy = "exhaustive";
    options.force = true;
    options.hooks.on_evaluation = [gate, first = std::make_shared<std::atomic<bool>>(true)](const Evaluation&) {
      if (first->exchange(false)) gate.wait();
    };
    return options;
  }
  ScratchDir dir{"ktune-engine-replay"};
  std::unique_ptr<Engine> engine;
  KernelSpec spec;
  const Sizes sizes{{"M", 2048}, {"N", 2048}, {"K", 2048}};
};

TEST_F(EngineOnRecordedData, RequestsThatDifferOnlyInTheirStopRuleAreNotMerged) {
  std::promise<void> open;
  TuneOptions a = gated(open.get_future().share());
  TuneOptions b = a;
  b.hooks = {};
  b.rule.max_standard_error = 0.02;  // nothing else differs
  auto first = engine->tune_async(spec, sizes, a);
  auto second = engine->tune_async(spec, sizes, b);
  open.set_value();
  auto ra = first.get();
  auto rb = second.get();
  ASSERT_TRUE(ra.ok()) << ra.error().message;
  ASSERT_TRUE(rb.ok()) << rb.error().message;
  // Two tunings, one after the other on the engine's thread: the second found every measurement of
  // the first in the store. Merged, it would have been handed the first's report.
  EXPECT_EQ(ra->report.evaluated, 228u);
  EXPECT_EQ(ra->report.from_store, 0u);
  EXPECT_EQ(rb->report.evaluated, 0u);
  EXPECT_EQ(rb->report.from_store, 228u);
  EXPECT_EQ(rb->report.best, ra->report.best);
}

TEST_F(EngineOnRecordedData, AnIdenticalRequestJoinsAndEveryWaitersHooksFire) {
  std::promise<void> open;
  TuneOptions a = gated(open.get_future().share());
  std::atomic<std::size_t> heard_a{0}, heard_b{0}, progress_b{0};
  auto gate_hook = a.hooks.on_evaluation;
  a.hooks.on_evaluation = [&, gate_hook](const Evaluation& e) {
    gate_hook(e);
    ++heard_a;
  };
  TuneOptions b = a;  // the same request: same settings, other hooks
  b.hooks.on_evaluation = [&](const Evaluation&) { ++heard_b; };
  b.hooks.on_progress = [&](const TuneProgress&) { ++progress_b; };
  auto first = engine->tune_async(spec, sizes, a);
  auto second = engine->tune_async(spec, sizes, b);  // joins while the first waits at its gate
  open.set_value();
  auto ra = first.get();
  auto rb = second.get();
  ASSERT_TRUE(ra.ok()) << ra.error().message;
  ASSERT_TRUE(rb.ok()) << rb.error().message;
  EXPECT_EQ(ra->report.evaluated, 228u);
  EXPECT_EQ(rb->report.evaluated, 228u) << "the second request ran a tuning of its own";
  EXPECT_EQ(rb->report.from_store, 0u);
  EXPECT_EQ(heard_a.load(), 228u);
  // The second waiter joined while the first evaluation was in progress: it hears every later one.
  EXPECT_GE(heard_b.load(), 227u);
  EXPECT_GE(progress_b.load(), 227u);
  // Done: the next identical request is answered from the lookup table.
  TuneOptions again;
  again.strategy = "exhaustive";
  auto rc = engine->tune(spec, sizes, again);
  ASSERT_TRUE(rc.ok()) << rc.error().message;
  EXPECT_TRUE(rc->answered_from_lookup);
  EXPECT_EQ(rc->report.best, ra->report.best);
}

TEST_F(EngineOnRecordedData, TunedAnswersAreLookedUpAndMeasuredFromTheRecording) {
  TuneOptions options;  // the default strategy, from the spec's default
  auto outcome = engine->tune(spec, sizes, options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome->device, kRecordedH100);
  EXPECT_EQ(outcome->arch, "sm_90");
  auto answer = engine->lookup(spec, sizes, kRecordedH100);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->rule, LookupRule::exact);
  EXPECT_EQ(answer->entry->config, outcome->report.best);
  auto measured = engine->measure(spec, sizes, spec.default_config, options);
  ASSERT_TRUE(measured.ok()) << measured.error().message;
  EXPECT_EQ(measured->measurement.status, MeasurementStatus::ok);
  EXPECT_EQ(engine->device().value_or_throw(), kRecordedH100);
}

}  // namespace
