// Binaries on request (issue #20): Engine::binary returns the tuned configuration's cubin with the
// launch geometry the spec gives at those sizes, so a compiler launches what was tuned; the spec's
// default where nothing is tuned; compile_async compiles many kernels at once. No GPU: the store
// holds an answer tuned by replaying H100 measurements, and NVRTC compiles for sm_90 here.
#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "engine/engine.hpp"
#include "engine/ktune.h"
#include "tests/helpers/engine_on_recording.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using ktune::testing::kRecordedH100;
using ktune::testing::ScratchDir;

std::int64_t value_of(const Config& config, const std::string& name) { return find_value(config, name).value(); }
std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
bool is_elf(const std::string& bytes) { return bytes.size() > 4 && bytes.compare(0, 4, "\x7f" "ELF") == 0; }

struct EngineBinary : ::testing::Test {
  ScratchDir dir{"ktune-binary"};
  std::unique_ptr<Engine> engine = Engine::create(ktune::testing::recorded_engine_options(dir)).value_or_throw();
  KernelSpec spec = ktune::testing::example_sgemm();
  const Sizes sizes{{"M", 2048}, {"N", 1024}, {"K", 512}};
};

TEST_F(EngineBinary, TheTunedConfigurationsCubinWithItsLaunchGeometry) {
  // Tuned on recorded data at 2048³; asked at other sizes, the nearest tuned size answers.
  TuneOptions tune;
  tune.strategy = "coordesc";
  const Config best = engine->tune(spec, {{"M", 2048}, {"N", 2048}, {"K", 2048}}, tune).value_or_throw().report.best;

  auto binary = engine->binary(spec, sizes, kRecordedH100);
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  EXPECT_EQ(binary->rule, LookupRule::nearest_size);
  EXPECT_EQ(binary->kernel.config, best);
  EXPECT_EQ(binary->kernel.arch, "sm_90");
  EXPECT_TRUE(is_elf(binary->kernel.cubin));
  EXPECT_EQ(binary->kernel.entry, "sgemm");  // extern "C"
  // The spec's launch expressions at these sizes: grid (ceil(N/BN), ceil(M/BM)), block (BM/TM)*(BN/TN).
  const auto BM = value_of(best, "BM"), BN = value_of(best, "BN"), TM = value_of(best, "TM"), TN = value_of(best, "TN");
  EXPECT_EQ(binary->launch.grid, (std::array<std::int64_t, 3>{ceil_div(1024, BN), ceil_div(2048, BM), 1}));
  EXPECT_EQ(binary->launch.block, (std::array<std::int64_t, 3>{(BM / TM) * (BN / TN), 1, 1}));
  EXPECT_EQ(binary->launch.dynamic_shared_bytes, 0);

  // Asked again: the same cubin from the cubin cache.
  auto again = engine->binary(spec, sizes, kRecordedH100).value_or_throw();
  EXPECT_TRUE(again.kernel.from_cache);
  EXPECT_EQ(again.kernel.cubin, binary->kernel.cubin);
}

TEST_F(EngineBinary, TheDefaultWhereNothingIsTuned) {
  auto binary = engine->binary(spec, sizes, kRecordedH100);
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  EXPECT_EQ(binary->rule, LookupRule::none);
  EXPECT_EQ(binary->kernel.config, spec.default_config);
  EXPECT_TRUE(is_elf(binary->kernel.cubin));
  EXPECT_EQ(binary->launch.grid, (std::array<std::int64_t, 3>{1024 / 64, 2048 / 64, 1}));
  EXPECT_EQ(binary->launch.block, (std::array<std::int64_t, 3>{256, 1, 1}));
  // Without a device the engine's own (here the recording's).
  auto own = engine->binary(spec, sizes);
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_EQ(own->kernel.arch, "sm_90");
  // Bad sizes are an error naming the size.
  auto bad = engine->binary(spec, {{"M", 1}, {"N", 1}}, kRecordedH100);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("K"), std::string::npos);
}

TEST_F(EngineBinary, CompileAsyncCompilesManyKernelsAtOnce) {
  std::vector<Config> configs;
  for (std::int64_t bk : {8, 16, 32}) {
    Config c = spec.default_config;
    for (auto& [name, value] : c)
      if (name == "BK") value = bk;
    configs.push_back(c);
  }
  std::vector<std::shared_future<Result<CompiledKernel>>> futures;
  for (const auto& c : configs) futures.push_back(engine->compile_async(spec, c, "sm_90"));
  for (std::size_t i = 0; i < futures.size(); ++i) {
    const auto& compiled = futures[i].get();
    ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    EXPECT_EQ(compiled->config, configs[i]);
    EXPECT_TRUE(is_elf(compiled->cubin));
  }
  EXPECT_EQ(engine->counters().compiles_finished, 3u);
  auto bad_arch = engine->compile_async(spec, spec.default_config, "compute_90").get();
  ASSERT_FALSE(bad_arch.ok());
  EXPECT_EQ(bad_arch.error().code, Errc::invalid_argument);
}

TEST(EngineBinaryCApi, BinaryGetReturnsACubinAndTheLaunch) {
  ScratchDir dir("ktune-binary-c");
  const std::string store = (dir / "store.db").string();
  ktune_engine_options options;
  ASSERT_EQ(ktune_engine_options_init(&options), KTUNE_OK);
  EXPECT_EQ(options.worker_idle_timeout_ms, 30000);
  EXPECT_EQ(options.runner_idle_timeout_ms, 60000);
  options.store_path = store.c_str();
  options.workers = 1;
  ktune_engine* engine = nullptr;
  ASSERT_EQ(ktune_engine_create_with_options(&options, &engine), KTUNE_OK) << ktune_last_error_message();
  ktune_spec* spec = nullptr;
  const std::string spec_path = std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json";
  ASSERT_EQ(ktune_spec_load_file(spec_path.c_str(), &spec), KTUNE_OK);
  const char* names[] = {"M", "N", "K"};
  const int64_t values[] = {2048, 1024, 512};
  ktune_binary* binary = nullptr;
  ASSERT_EQ(ktune_binary_get(engine, spec, names, values, 3, "NVIDIA H100 80GB HBM3", "sm_90", &binary), KTUNE_OK)
      << ktune_last_error_message();
  const void* data = nullptr;
  size_t size = 0;
  ASSERT_EQ(ktune_binary_cubin(binary, &data, &size), KTUNE_OK);
  ASSERT_GT(size, 4u);
  EXPECT_EQ(std::string(static_cast<const char*>(data), 4), "\x7f" "ELF");
  const char* entry = nullptr;
  ASSERT_EQ(ktune_binary_entry(binary, &entry), KTUNE_OK);
  EXPECT_STREQ(entry, "sgemm");
  int64_t grid[3], block[3], shared = -1;
  ASSERT_EQ(ktune_binary_launch(binary, grid, block, &shared), KTUNE_OK);
  EXPECT_EQ(grid[0], 16);
  EXPECT_EQ(grid[1], 32);
  EXPECT_EQ(block[0], 256);
  EXPECT_EQ(shared, 0);
  ktune_rule rule = KTUNE_RULE_EXACT;
  ASSERT_EQ(ktune_binary_rule(binary, &rule), KTUNE_OK);
  EXPECT_EQ(rule, KTUNE_RULE_DEFAULT);
  ktune_counters counters;
  ASSERT_EQ(ktune_engine_counters(engine, &counters), KTUNE_OK);
  EXPECT_EQ(counters.compiles_finished, 1u);
  EXPECT_EQ(ktune_engine_shutdown(engine, 10000), KTUNE_OK) << ktune_last_error_message();
  EXPECT_EQ(ktune_binary_get(engine, spec, names, values, 3, "NVIDIA H100 80GB HBM3", "sm_90", &binary),
            KTUNE_ERROR_UNSUPPORTED);
  ktune_binary_destroy(binary);
  ktune_spec_destroy(spec);
  ktune_engine_destroy(engine);
}

}  // namespace

namespace {

TEST(EngineBinaryCApi, NullArgumentsOfTheLifecycleAndBinaryFunctionsAreErrors) {
  ktune_counters counters;
  EXPECT_EQ(ktune_engine_counters(nullptr, &counters), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(ktune_last_error_message(), "ktune_engine_counters: engine is NULL");
  EXPECT_EQ(ktune_engine_wait_ready(nullptr, 1000), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(ktune_engine_shutdown(nullptr, 1000), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(ktune_engine_options_init(nullptr), KTUNE_ERROR_INVALID_ARGUMENT);
  ktune_engine* engine = nullptr;
  EXPECT_EQ(ktune_engine_create_with_options(nullptr, &engine), KTUNE_ERROR_INVALID_ARGUMENT);
  ktune_engine_options options;
  ASSERT_EQ(ktune_engine_options_init(&options), KTUNE_OK);
  options.worker_idle_timeout_ms = -1;
  EXPECT_EQ(ktune_engine_create_with_options(&options, &engine), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(ktune_binary_get(nullptr, nullptr, nullptr, nullptr, 0, nullptr, nullptr, nullptr), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(ktune_last_error_message(), "ktune_binary_get: engine is NULL");
  const void* data = nullptr;
  size_t size = 0;
  EXPECT_EQ(ktune_binary_cubin(nullptr, &data, &size), KTUNE_ERROR_INVALID_ARGUMENT);
  int64_t grid[3], block[3], shared = 0;
  EXPECT_EQ(ktune_binary_launch(nullptr, grid, block, &shared), KTUNE_ERROR_INVALID_ARGUMENT);
  ktune_binary_destroy(nullptr);
}

}  // namespace
