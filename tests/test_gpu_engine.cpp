// The library API on a GPU: tune persists and answers later lookups exactly, identical concurrent
// requests tune once, get() moves from the default to the tuned configuration.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/cuda/driver_api.hpp"
#include "engine/engine.hpp"
#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"

namespace {

using namespace ktune;

TEST(GpuEngine, TuneMergeAndGet) {
  if (auto devices = cuda::list_devices(); !devices) GTEST_SKIP() << "no GPU here: " << devices.error().message;
  auto dir = std::filesystem::temp_directory_path() / ("ktune-gpu-engine-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EngineOptions options;
  options.store_path = dir / "store.db";
  options.cubin_cache_dir = dir / "cubins";
  auto engine = Engine::create(options).value_or_throw();
  auto spec = KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
  const Sizes sizes{{"M", 1024}, {"N", 1024}, {"K", 1024}};

  // Identical requests in flight at once run one tuning.
  auto a = engine->tune_async(spec, sizes, {});
  auto b = engine->tune_async(spec, sizes, {});
  const auto& ra = a.get();
  const auto& rb = b.get();
  ASSERT_TRUE(ra.ok()) << ra.error().message;
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(ra->report.best, rb->report.best);
  EXPECT_FALSE(ra->answered_from_lookup);
  auto device = engine->device().value_or_throw();
  TuningQuestion q{&spec, sizes, device, current_toolchain()};
  {
    auto store = store::Store::open(options.store_path).value_or_throw();
    auto measured = store.measurements_for(q.tuning_record().tuning_key).value_or_throw();
    // Each configuration once (plus the finalists' side-by-side re-measurement).
    EXPECT_LE(measured.size(), ra->report.evaluated + 3);
  }
  // A later lookup answers exactly; a later tune answers from the table.
  auto answer = engine->lookup(spec, sizes, device).value_or_throw();
  EXPECT_EQ(answer.rule, store::LookupRule::exact);
  EXPECT_EQ(answer.entry->config, ra->report.best);
  auto again = engine->tune(spec, sizes, {}).value_or_throw();
  EXPECT_TRUE(again.answered_from_lookup);

  // get(): answers at once (nearest tuned size), then moves to its own tuned answer.
  TunedConfig handle = engine->get(spec, {{"M", 2048}, {"N", 1024}, {"K", 1024}});
  EXPECT_EQ(handle.source(), "nearest_size");
  auto waited = handle.wait();
  ASSERT_TRUE(waited.ok()) << waited.error().message;
  EXPECT_TRUE(handle.tuned());
  EXPECT_EQ(handle.source(), "tuned");
  std::printf("tuned 1024^3: %s in %.1f s (%zu evaluated)\n", format_named(ra->report.best).c_str(), ra->report.wall_seconds,
              ra->report.evaluated);
  engine.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
