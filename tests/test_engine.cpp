// The library API without a GPU: clear "no GPU" values from tune, tune_async and get, the default
// answered at once, nothing hangs, the store is usable for lookups.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/cuda/driver_api.hpp"
#include "engine/engine.hpp"

namespace {

using namespace ktune;

struct EngineNoGpu : ::testing::Test {
  void SetUp() override {
    if (cuda::list_devices().ok()) GTEST_SKIP() << "a GPU is present (see test_gpu_engine)";
    dir = std::filesystem::temp_directory_path() / ("ktune-engine-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    EngineOptions options;
    options.store_path = dir / "store.db";
    options.cubin_cache_dir = dir / "cubins";
    engine = Engine::create(options).value_or_throw();
    spec = KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
  }
  void TearDown() override {
    engine.reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
  std::unique_ptr<Engine> engine;
  KernelSpec spec;
  const Sizes sizes{{"M", 512}, {"N", 512}, {"K", 512}};
};

TEST_F(EngineNoGpu, TuneSaysThereIsNoGpu) {
  auto outcome = engine->tune(spec, sizes, {});
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, Errc::no_gpu);
  EXPECT_NE(outcome.error().message.find("no NVIDIA driver"), std::string::npos) << outcome.error().message;
}

TEST_F(EngineNoGpu, ConcurrentIdenticalRequestsAllResolve) {
  auto a = engine->tune_async(spec, sizes, {});
  auto b = engine->tune_async(spec, {{"K", 512}, {"M", 512}, {"N", 512}}, {});  // same question, other order
  auto c = engine->tune_async(spec, {{"M", 1024}, {"N", 512}, {"K", 512}}, {});
  EXPECT_EQ(a.get().error().code, Errc::no_gpu);
  EXPECT_EQ(b.get().error().code, Errc::no_gpu);
  EXPECT_EQ(c.get().error().code, Errc::no_gpu);
}

TEST_F(EngineNoGpu, BadRequestsFailBeforeTouchingTheGpu) {
  auto missing = engine->tune(spec, {{"M", 512}, {"N", 512}}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::invalid_argument);
  EXPECT_NE(missing.error().message.find("missing size K"), std::string::npos);
  TuneOptions options;
  options.strategy = "annealing";
  auto strategy = engine->tune(spec, sizes, options);
  ASSERT_FALSE(strategy.ok());
  EXPECT_NE(strategy.error().message.find("unknown strategy 'annealing'"), std::string::npos);
}

TEST_F(EngineNoGpu, GetAnswersTheDefaultAtOnceAndReportsWhyItCannotTune) {
  TunedConfig handle = engine->get(spec, sizes);
  EXPECT_EQ(handle.config(), spec.default_config);
  EXPECT_EQ(handle.source(), "default");
  auto done = handle.wait();
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::no_gpu);
  EXPECT_FALSE(handle.tuned());
  EXPECT_EQ(handle.config(), spec.default_config);  // still usable
}

TEST_F(EngineNoGpu, LookupWorksFromTheStoreAlone) {
  auto answer = engine->lookup(spec, sizes, {"NVIDIA H100 80GB HBM3", "sm_90"});
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->rule, store::LookupRule::none);
}

}  // namespace
