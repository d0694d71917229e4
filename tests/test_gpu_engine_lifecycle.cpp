// The engine inside a long-running process, on a GPU (issue #20): warm start then wait_ready has
// the runner up; the problem's GPU memory is given back right after each request; the runner
// exits after its idle timeout (all its GPU memory with it) and comes back on the next request;
// binary() returns a cubin that loads and, launched with the returned geometry, computes what the
// tuned configuration computes. Prints the GPU memory figures for the notes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/cuda/device_buffer.hpp"
#include "engine/cuda/driver_api.hpp"
#include "engine/cuda/driver_check.hpp"
#include "engine/cuda/loaded_library.hpp"
#include "engine/cuda/primary_context.hpp"
#include "engine/engine.hpp"
#include "tests/helpers/process_children.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using namespace std::chrono_literals;
using ktune::testing::ScratchDir;

const cuda::DriverApi* driver_or_null() {
  auto api = cuda::DriverApi::load();
  if (!api || !cuda::list_devices()) return nullptr;
  return *api;
}

double free_mib(const cuda::DriverApi& api) {
  std::size_t free_bytes = 0, total = 0;
  EXPECT_EQ(api.cuMemGetInfo(&free_bytes, &total), CUDA_SUCCESS);
  return static_cast<double>(free_bytes) / (1 << 20);
}

template <class Done>
bool eventually(Done&& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

// The pid of this process's ktune-runner child, 0 when there is none.
pid_t runner_pid() {
  for (const auto& child : ktune::testing::children_of(::getpid())) {
    std::ifstream comm("/proc/" + std::to_string(child.pid) + "/comm");
    std::string name;
    if (std::getline(comm, name) && name == "ktune-runner") return child.pid;
  }
  return 0;
}

// GPU memory a process holds, in MiB, as nvidia-smi reports it; -1 where nvidia-smi cannot say
// (not installed, or it lists pids of another namespace): then only the device totals are checked.
double process_gpu_mib(pid_t pid) {
  FILE* smi = ::popen("nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null", "r");
  if (!smi) return -1;
  char line[256];
  double found = -1;
  while (std::fgets(line, sizeof line, smi)) {
    long p = 0;
    double mib = 0;
    if (std::sscanf(line, "%ld, %lf", &p, &mib) == 2 && p == pid) found = mib;
  }
  return ::pclose(smi) == 0 ? found : -1;
}

KernelSpec sgemm() { return KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw(); }

TEST(GpuEngineLifecycle, RunnerGivesItsMemoryBackAfterEachRequestAndWhenIdle) {
  const cuda::DriverApi* api = driver_or_null();
  if (!api) GTEST_SKIP() << "no GPU here";
  auto context = cuda::PrimaryContext::retain(*api, 0).value_or_throw();  // to read free memory
  ScratchDir dir("ktune-gpu-lifecycle");
  EngineOptions options;
  options.store_path = dir / "store.db";
  options.cubin_cache_dir = dir / "cubins";
  options.lifecycle.warm_start = true;
  options.lifecycle.runner_idle_timeout = 3s;
  options.lifecycle.worker_idle_timeout = 2s;  // NVRTC may initialise CUDA in the workers too
  const double before_engine = free_mib(*api);
  auto engine = Engine::create(options).value_or_throw();
  auto ready = engine->wait_ready(120s);
  ASSERT_TRUE(ready.ok()) << ready.error().message;
  EXPECT_TRUE(engine->counters().runner_alive);
  EXPECT_GT(engine->counters().workers_alive, 0u);
  const double runner_idle = free_mib(*api);
  const pid_t runner = runner_pid();
  ASSERT_NE(runner, 0);
  const double runner_idle_mib = process_gpu_mib(runner);

  // M=N=K=4096: A, B, C and C's pristine copy are 256 MiB of problem buffers.
  const KernelSpec spec = sgemm();
  const Sizes sizes{{"M", 4096}, {"N", 4096}, {"K", 4096}};
  TuneOptions tune;
  tune.limits.max_evaluations = 4;
  tune.force = true;
  auto tuned = engine->tune(spec, sizes, tune);
  ASSERT_TRUE(tuned.ok()) << tuned.error().message;
  const double after_request = free_mib(*api);
  const double runner_after_request_mib = runner_pid() == runner ? process_gpu_mib(runner) : -1;
  EXPECT_TRUE(engine->counters().runner_alive);

  ASSERT_TRUE(eventually([&] { return !engine->counters().runner_alive; }, 20s)) << "the runner did not exit when idle";
  EXPECT_EQ(runner_pid(), 0) << "the runner process is still there";
  ASSERT_TRUE(eventually([&] { return engine->counters().workers_alive == 0; }, 20s));
  const double after_idle = free_mib(*api);
  std::printf("GPU memory, device free (MiB): before the engine %.0f, runner warm %.0f (engine holds %.0f), after a "
              "4096^3 tune %.0f (holds %.0f), after the idle exits %.0f (holds %.0f)\n",
              before_engine, runner_idle, before_engine - runner_idle, after_request, before_engine - after_request,
              after_idle, before_engine - after_idle);
  std::printf("GPU memory of the runner process (nvidia-smi, MiB): warm %.0f, after the request %.0f\n", runner_idle_mib,
              runner_after_request_mib);
  if (runner_idle_mib >= 0 && runner_after_request_mib >= 0) {
    EXPECT_LT(runner_after_request_mib, runner_idle_mib + 64) << "the problem's buffers (256 MiB) were not freed after the request";
  } else {
    std::printf("nvidia-smi does not list the runner (no nvidia-smi, or another pid namespace): per-process check skipped\n");
  }
  EXPECT_GT(after_idle, before_engine - 16) << "GPU memory still held after the idle exits";
  for (const auto& child : ktune::testing::children_of(::getpid())) EXPECT_NE(child.state, 'Z') << "zombie " << child.pid;

  // The next request starts it again.
  auto again = engine->tune(spec, sizes, tune);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(engine->counters().runner_alive);
  EXPECT_TRUE(engine->shutdown(30s).ok());
  EXPECT_FALSE(engine->counters().runner_alive);
}

TEST(GpuEngineLifecycle, BinaryLaunchesAsTheTunedConfiguration) {
  const cuda::DriverApi* api = driver_or_null();
  if (!api) GTEST_SKIP() << "no GPU here";
  ScratchDir dir("ktune-gpu-binary");
  EngineOptions options;
  options.store_path = dir / "store.db";
  options.cubin_cache_dir = dir / "cubins";
  auto engine = Engine::create(options).value_or_throw();
  const KernelSpec spec = sgemm();
  const int M = 512, N = 384, K = 256;
  const Sizes sizes{{"M", M}, {"N", N}, {"K", K}};
  TuneOptions tune;
  tune.limits.max_evaluations = 12;
  auto tuned = engine->tune(spec, sizes, tune);
  ASSERT_TRUE(tuned.ok()) << tuned.error().message;

  auto binary = engine->binary(spec, sizes);
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  EXPECT_EQ(binary->rule, LookupRule::exact);
  EXPECT_EQ(binary->kernel.config, tuned->report.best);
  EXPECT_EQ(binary->kernel.arch.substr(0, 3), "sm_");
  const auto BM = *find_value(tuned->report.best, "BM"), BN = *find_value(tuned->report.best, "BN");
  const auto TM = *find_value(tuned->report.best, "TM"), TN = *find_value(tuned->report.best, "TN");
  EXPECT_EQ(binary->launch.grid, (std::array<std::int64_t, 3>{(N + BN - 1) / BN, (M + BM - 1) / BM, 1}));
  EXPECT_EQ(binary->launch.block, (std::array<std::int64_t, 3>{(BM / TM) * (BN / TN), 1, 1}));

  // Load and launch it as a compiler would, and check C = A * B.
  auto context = cuda::PrimaryContext::retain(*api, 0).value_or_throw();
  CUlibrary raw = nullptr;
  ASSERT_EQ(api->cuLibraryLoadData(&raw, binary->kernel.cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0), CUDA_SUCCESS);
  cuda::LoadedLibrary library(api, raw);
  CUkernel kernel = nullptr;
  ASSERT_EQ(api->cuLibraryGetKernel(&kernel, library.get(), binary->kernel.entry.c_str()), CUDA_SUCCESS);
  CUfunction function = nullptr;
  ASSERT_EQ(api->cuKernelGetFunction(&function, kernel), CUDA_SUCCESS);
  std::vector<float> a(static_cast<std::size_t>(M) * K), b(static_cast<std::size_t>(K) * N), c(static_cast<std::size_t>(M) * N);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(static_cast<int>(i % 7) - 3);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(static_cast<int>(i % 5) - 2);
  auto da = cuda::DeviceBuffer::allocate(*api, a.size() * 4).value_or_throw();
  auto db = cuda::DeviceBuffer::allocate(*api, b.size() * 4).value_or_throw();
  auto dc = cuda::DeviceBuffer::allocate(*api, c.size() * 4).value_or_throw();
  ASSERT_EQ(api->cuMemcpyHtoD(da.get(), a.data(), a.size() * 4), CUDA_SUCCESS);
  ASSERT_EQ(api->cuMemcpyHtoD(db.get(), b.data(), b.size() * 4), CUDA_SUCCESS);
  CUdeviceptr pa = da.get(), pb = db.get(), pc = dc.get();
  int m = M, n = N, k = K;
  void* params[] = {&pa, &pb, &pc, &m, &n, &k};
  const auto& g = binary->launch;
  ASSERT_EQ(api->cuLaunchKernel(function, static_cast<unsigned>(g.grid[0]), static_cast<unsigned>(g.grid[1]),
                                static_cast<unsigned>(g.grid[2]), static_cast<unsigned>(g.block[0]),
                                static_cast<unsigned>(g.block[1]), static_cast<unsigned>(g.block[2]),
                                static_cast<unsigned>(g.dynamic_shared_bytes), nullptr, params, nullptr),
            CUDA_SUCCESS);
  ASSERT_EQ(api->cuCtxSynchronize(), CUDA_SUCCESS);
  ASSERT_EQ(api->cuMemcpyDtoH(c.data(), dc.get(), c.size() * 4), CUDA_SUCCESS);
  std::size_t wrong = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double expected = 0;
      for (int p = 0; p < K; ++p) expected += double(a[std::size_t(i) * K + p]) * b[std::size_t(p) * N + j];
      wrong += std::fabs(expected - c[std::size_t(i) * N + j]) > 1e-3;
    }
  EXPECT_EQ(wrong, 0u);
}

}  // namespace
