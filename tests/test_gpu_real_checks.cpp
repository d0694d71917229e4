// Kernels as people write them, on a GPU (issue #16 items 5, 7, 8): a templated entry
// (vector_add<float>) is tuned end to end and verified, a configuration that does not compile is
// recorded as compile_error while the others run, and the tuning is exported to Kernel Tuner's
// cache format and read back by the importer, and to T4.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/cuda/driver_api.hpp"
#include "engine/engine.hpp"
#include "engine/kernel_tuner_import.hpp"
#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "engine/results_export.hpp"
#include "store/store.hpp"

namespace {

using namespace ktune;

TEST(GpuRealChecks, ATemplatedEntryTunesVerifiesAndExports) {
  if (auto devices = cuda::list_devices(); !devices) GTEST_SKIP() << "no GPU here: " << devices.error().message;
  auto dir = std::filesystem::temp_directory_path() / ("ktune-gpu-real-checks-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EngineOptions options;
  options.store_path = dir / "store.db";
  options.cubin_cache_dir = dir / "cubins";
  auto engine = Engine::create(options).value_or_throw();
  // THREADS=96 does not compile (an #error): recorded as compile_error, the rest still tune.
  nlohmann::json source = {{"code", R"(
#if THREADS == 96
#error 96 threads are not supported
#endif
template <typename T>
__global__ void vector_add(T* c, const T* a, const T* b, int n) {
  int i = blockIdx.x * THREADS + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
})"}};
  auto spec = KernelSpec::from_json_text(R"({"ktune_spec": 1, "name": "vector_add_float", "entry": "vector_add<float>",
    "source": )" + source.dump() + R"js(, "sizes": ["N"], "params": {"THREADS": [64, 96, 128, 256, 512, 1024]},
    "default": {"THREADS": 128}, "launch": {"grid": ["ceil_div(N, THREADS)"], "block": ["THREADS"]},
    "args": [{"name": "c", "type": "float*", "count": "N", "output": true},
             {"name": "a", "type": "const float*", "count": "N", "init": "random"},
             {"name": "b", "type": "const float*", "count": "N", "init": "random"},
             {"name": "n", "type": "int", "value": "N"}]})js")
                  .value_or_throw();
  const Sizes sizes{{"N", 1 << 22}};
  TuneOptions tune;
  tune.strategy = "exhaustive";
  auto result = engine->tune(spec, sizes, tune);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const TuneReport& report = result->report;
  EXPECT_EQ(report.by_status.count("compile_error") ? report.by_status.at("compile_error") : 0u, 1u);
  EXPECT_GE(report.by_status.count("ok") ? report.by_status.at("ok") : 0u, 1u);  // launch limits may refuse 1024 on some device
  EXPECT_EQ(report.by_status.count("wrong_result"), 0u);
  EXPECT_NE(find_value(report.best, "THREADS").value_or(96), 96);

  auto device = engine->device().value_or_throw();
  engine.reset();
  TuningQuestion question{&spec, sizes, device, current_toolchain()};
  auto store = store::Store::open(options.store_path).value_or_throw();
  const std::string tuning_key = question.tuning_record().tuning_key;
  auto best = store.best(tuning_key).value_or_throw();
  ASSERT_TRUE(best.has_value());
  TuningResults tuning{question.kernel_record(), *best, store.measurements_for(tuning_key).value_or_throw()};
  const std::string cache = to_kernel_tuner_cache(tuning).value_or_throw();
  KernelTunerImportOptions import_options;
  import_options.arch = device.arch;
  auto back = parse_kernel_tuner_cache(cache, spec, import_options, "exported");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->summary.by_status.at("compile_error"), 1u);
  const std::string t4 = to_t4_results(tuning).value_or_throw();
  EXPECT_TRUE(t4_problems(t4).empty());
  std::printf("vector_add<float> at N=2^22 on %s: best %s, %.2f us\n", device.name.c_str(), format_named(report.best).c_str(),
              report.best_ns / 1e3);
  std::filesystem::remove_all(dir);
}

}  // namespace
