// An engine living inside a long-running process (issue #20): warm start then wait_ready, compile
// workers that exit when idle and come back on the next request, a bounded shutdown that refuses
// further work but keeps answering lookups, and the counters a compiler logs. Real worker
// processes and real NVRTC; short idle timeouts so the tests do not wait long.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "engine/engine.hpp"
#include "tests/helpers/engine_on_recording.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using namespace std::chrono_literals;
using ktune::testing::ScratchDir;

// Polls `done` until it holds or `limit` passes (a hang guard, not a speed bound).
template <class Done>
bool eventually(Done&& done, std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

TEST(EngineLifecycle, DefaultsSuitAnEmbeddedEngine) {
  const EngineLifecycle defaults;
  EXPECT_FALSE(defaults.warm_start);
  EXPECT_EQ(defaults.worker_idle_timeout, 30s);
  EXPECT_EQ(defaults.runner_idle_timeout, 60s);
  EXPECT_TRUE(defaults.runner_frees_problem);
}

TEST(EngineLifecycle, WarmStartThenWaitReadyHasEveryWorkerUp) {
  ScratchDir dir("ktune-lifecycle");
  auto options = ktune::testing::recorded_engine_options(dir);
  options.lifecycle.warm_start = true;
  auto engine = Engine::create(options).value_or_throw();
  auto ready = engine->wait_ready(60s);
  ASSERT_TRUE(ready.ok()) << ready.error().message;
  EXPECT_EQ(engine->counters().workers_alive, 2u);
  EXPECT_FALSE(engine->counters().runner_alive);  // a replaying engine measures without a runner
}

TEST(EngineLifecycle, WaitReadyWithoutAGpuSaysSoInsteadOfHanging) {
  ScratchDir dir("ktune-lifecycle");
  EngineOptions options;
  options.store_path = dir / "store.db";
  options.cubin_cache_dir = dir / "cubins";
  options.workers = 1;
  options.lifecycle.warm_start = true;
  auto engine = Engine::create(options).value_or_throw();
  auto ready = engine->wait_ready(60s);
  if (ready.ok()) {
    EXPECT_TRUE(engine->counters().runner_alive);  // this machine has a GPU
  } else {
    EXPECT_EQ(ready.error().code, Errc::no_gpu) << ready.error().message;
  }
}

TEST(EngineLifecycle, IdleWorkersExitAndComeBackOnTheNextCompile) {
  ScratchDir dir("ktune-lifecycle");
  auto options = ktune::testing::recorded_engine_options(dir);
  options.use_cubin_cache = false;  // every compile reaches a worker
  options.lifecycle.warm_start = true;
  options.lifecycle.worker_idle_timeout = 300ms;
  auto engine = Engine::create(options).value_or_throw();
  ASSERT_TRUE(engine->wait_ready(60s).ok());
  EXPECT_TRUE(eventually([&] { return engine->counters().workers_alive == 0; })) << "workers still alive after their idle timeout";

  const KernelSpec spec = ktune::testing::example_sgemm();
  auto compiled = engine->compile_async(spec, spec.default_config, "sm_90").get();
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  EXPECT_EQ(compiled->cubin.substr(0, 4), "\x7f" "ELF");
  EXPECT_GE(engine->counters().workers_alive, 1u);  // the worker that compiled it, until it idles again
  EXPECT_TRUE(eventually([&] { return engine->counters().workers_alive == 0; }));
}

TEST(EngineLifecycle, ShutdownIsBoundedRefusesWorkAndKeepsLookups) {
  ScratchDir dir("ktune-lifecycle");
  auto options = ktune::testing::recorded_engine_options(dir);
  options.lifecycle.warm_start = true;
  auto engine = Engine::create(options).value_or_throw();
  ASSERT_TRUE(engine->wait_ready(60s).ok());
  const KernelSpec spec = ktune::testing::example_sgemm();
  const Sizes sizes{{"M", 2048}, {"N", 2048}, {"K", 2048}};
  TuneOptions tune;
  tune.strategy = "coordesc";
  ASSERT_TRUE(engine->tune(spec, sizes, tune).ok());

  auto stopped = engine->shutdown(10s);
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_EQ(engine->counters().workers_alive, 0u);
  auto compiled = engine->compile_async(spec, spec.default_config, "sm_90").get();
  ASSERT_FALSE(compiled.ok());
  EXPECT_NE(compiled.error().message.find("shut down"), std::string::npos) << compiled.error().message;
  EXPECT_FALSE(engine->tune(spec, sizes, tune).ok());
  auto answer = engine->lookup(PreparedKernel::from(spec), sizes);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->rule, LookupRule::exact);
}

TEST(EngineLifecycle, ShutdownDuringATuningReturnsInTimeAndTheTuningFinishesWhole) {
  ScratchDir dir("ktune-lifecycle");
  auto engine = Engine::create(ktune::testing::recorded_engine_options(dir)).value_or_throw();
  const KernelSpec spec = ktune::testing::example_sgemm();
  const Sizes sizes{{"M", 2048}, {"N", 2048}, {"K", 2048}};
  std::promise<void> started;
  std::atomic<bool> first{true};
  TuneOptions slow;
  slow.strategy = "exhaustive";
  slow.hooks.on_evaluation = [&](const Evaluation&) {  // a tuning that takes a while (228 x 5 ms)
    if (first.exchange(false)) started.set_value();
    std::this_thread::sleep_for(5ms);
  };
  auto tuning = engine->tune_async(spec, sizes, slow);
  auto queued = engine->tune_async(spec, {{"M", 1024}, {"N", 1024}, {"K", 1024}}, {});
  started.get_future().wait();

  const auto before = std::chrono::steady_clock::now();
  auto stopped = engine->shutdown(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 10s);  // a hang guard
  ASSERT_FALSE(stopped.ok());
  EXPECT_NE(stopped.error().message.find("still running"), std::string::npos) << stopped.error().message;
  const auto& queued_result = queued.get();  // queued behind the running tuning: refused, not run
  ASSERT_FALSE(queued_result.ok());
  EXPECT_NE(queued_result.error().message.find("shut down"), std::string::npos) << queued_result.error().message;
  const auto& result = tuning.get();  // the running one was finished whole
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->report.evaluated, 228u);
  EXPECT_EQ(result->report.by_status.count("compile_error"), 0u);
}

TEST(EngineLifecycle, CountersSayWhatTheEngineDid) {
  ScratchDir dir("ktune-lifecycle");
  auto engine = Engine::create(ktune::testing::recorded_engine_options(dir)).value_or_throw();
  const KernelSpec spec = ktune::testing::example_sgemm();
  const Sizes sizes{{"M", 2048}, {"N", 2048}, {"K", 2048}};
  TuneOptions tune;
  tune.strategy = "coordesc";
  ASSERT_TRUE(engine->tune(spec, sizes, tune).ok());  // a search (replayed)
  ASSERT_TRUE(engine->tune(spec, sizes, tune).ok());  // answered from the table
  ASSERT_TRUE(engine->compile_async(spec, spec.default_config, "sm_90").get().ok());
  ASSERT_TRUE(engine->compile_async(spec, spec.default_config, "sm_90").get().ok());  // the cubin cache
  KernelSpec broken = spec;
  broken.source = "this is not CUDA C++";
  auto failed = engine->compile_async(broken, spec.default_config, "sm_90").get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::invalid_spec) << failed.error().message;
  (void)engine->lookup(spec, sizes, ktune::testing::kRecordedH100);

  const EngineCounters counters = engine->counters();
  EXPECT_EQ(counters.tunings_run, 1u);
  EXPECT_EQ(counters.tunings_from_table, 1u);
  EXPECT_EQ(counters.compiles_started, 3u);
  EXPECT_EQ(counters.compiles_finished, 3u);
  EXPECT_EQ(counters.compiles_from_cache, 1u);
  EXPECT_EQ(counters.compiles_failed, 1u);
  EXPECT_EQ(counters.lookups, 1u);
  EXPECT_GT(counters.wait_seconds, 0.0);
}

}  // namespace
