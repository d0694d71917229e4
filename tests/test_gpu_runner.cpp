// The GPU runner on a real GPU: timings of a kernel of known cost, and every failure class
// handled by killing and respawning the runner while the caller goes on. Skips without a driver.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "engine/runner_client.hpp"
#include "engine/cuda/driver_api.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace {

using namespace ktune;
using namespace ktune::runner;

const char* kSource = R"(
extern "C" __global__ void copy(const float4* in, float4* out, int n4) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n4) out[i] = in[i];
}
extern "C" __global__ void off_by_one(const float4* in, float4* out, int n4) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n4) out[i] = make_float4(in[i].x + 1.0f, in[i].y, in[i].z, in[i].w);
}
extern "C" __global__ void out_of_bounds(const float4* in, float4* out, int n4) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n4) out[i + (1LL << 36)] = in[i];
}
extern "C" __global__ void never_ends(const float4* in, float4* out, int n4) {
  // A volatile load is a side effect, so the compiler must keep re-reading: the inputs are in
  // [-1, 1), the loop never ends.
  const volatile float* x = &in[0].x;
  while (*x < 2.0f) { }
}
extern "C" __global__ void big_shared(const float4* in, float4* out, int n4) {
  extern __shared__ float4 tile[];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  tile[threadIdx.x] = i < n4 ? in[i] : make_float4(0, 0, 0, 0);
  __syncthreads();
  if (i < n4) out[i] = tile[blockDim.x - 1 - threadIdx.x + 0 * (100 * 1024 / 16)];
}
)";

constexpr std::int64_t kFloats = 64 << 20;  // 256 MiB per buffer: far beyond the 50 MiB L2
constexpr std::int64_t kVec = kFloats / 4;

class GpuRunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto devices = cuda::list_devices();
    if (!devices) {
      skip_reason_ = devices.error().message;
      return;
    }
    workers::CompileJob job;
    job.source = kSource;
    job.name_expressions = {"copy", "off_by_one", "out_of_bounds", "never_ends", "big_shared"};
    job.arch = devices->front().arch;
    compiled_ = new workers::CompileResult(workers::compile_with_nvrtc(job));
  }
  static void TearDownTestSuite() {
    delete compiled_;
    compiled_ = nullptr;
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << "no GPU here: " << skip_reason_;
    ASSERT_TRUE(compiled_->ok()) << compiled_->log;
    auto runner = GpuRunner::start({});
    ASSERT_TRUE(runner.ok()) << runner.error().message;
    runner_ = std::move(*runner);
    Problem problem;
    BufferInit random;
    random.kind = BufferInit::Kind::random;
    random.seed = 7;
    problem.buffers.push_back({"in", ElementType::f32, static_cast<std::uint64_t>(kFloats), kFloats * 4, random, false, {}, 0, 0});
    problem.buffers.push_back({"out", ElementType::f32, static_cast<std::uint64_t>(kFloats), kFloats * 4, {}, true, {}, 1e-5, 1e-5});
    problem.args = {{true, 0}, {true, 1}, {false, 0}};
    problem.total_bytes = 2 * kFloats * 4;
    auto ok = runner_->set_problem(problem);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
  }

  KernelJob job(int index, std::int64_t threads = 256, std::int64_t shared = 0) {
    KernelJob j;
    j.label = compiled_->lowered_names[static_cast<std::size_t>(index)];
    j.cubin = compiled_->cubin;
    j.lowered_name = compiled_->lowered_names[static_cast<std::size_t>(index)];
    j.launch.shape = {{(kVec + threads - 1) / threads, 1, 1}, {threads, 1, 1}, shared};
    ScalarArg n;
    n.type = ElementType::i32;
    n.integer = kVec;
    j.launch.scalars = {n};
    return j;
  }

  KernelMeasurement measure_one(const KernelJob& j, MeasureOptions options = {}) {
    auto r = runner_->measure({j}, options);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->front() : KernelMeasurement{};
  }

  void expect_copy_still_works() {
    auto m = measure_one(job(0));
    EXPECT_EQ(m.status, MeasurementStatus::ok) << m.message;
  }

  static inline std::string skip_reason_;
  static inline workers::CompileResult* compiled_ = nullptr;
  std::unique_ptr<GpuRunner> runner_;
};

TEST_F(GpuRunnerTest, CopyRunsNearMemoryBandwidthWithCupti) {
  EXPECT_TRUE(runner_->hello().cupti);
  auto m = measure_one(job(0));
  ASSERT_EQ(m.status, MeasurementStatus::ok) << m.message;
  EXPECT_EQ(m.timer, "cupti");
  EXPECT_GE(m.stats.samples, 10u);
  const double tb_per_s = 2.0 * kFloats * 4 / m.stats.median_ns / 1e3;
  std::printf("copy of 256 MiB: median %.1f us, noise %.2f %%, %.2f TB/s, %zu samples, clock %u MHz, %.0f ms wall\n",
              m.stats.median_ns / 1e3, 100 * m.stats.noise, tb_per_s, m.stats.samples, m.sm_clock_mhz, 1e3 * m.wall_seconds);
  // Bounds from the device, not from one card: a copy reaches a good part of the memory interface's
  // peak and never more than the peak (CUPTI times the kernel alone).
  const double peak_tb_per_s = cuda::list_devices()->front().peak_memory_bytes_per_second() / 1e12;
  std::printf("memory interface peak %.2f TB/s\n", peak_tb_per_s);
  ASSERT_GT(peak_tb_per_s, 0) << "the driver did not report the memory clock and bus width";
  EXPECT_GT(tb_per_s, 0.45 * peak_tb_per_s);
  EXPECT_LT(tb_per_s, 1.02 * peak_tb_per_s);
}

TEST_F(GpuRunnerTest, WrongResultNeverPasses) {
  MeasureOptions reference;
  reference.verify = VerifyMode::set_reference;
  ASSERT_EQ(measure_one(job(0), reference).status, MeasurementStatus::ok);
  MeasureOptions compare;
  compare.verify = VerifyMode::compare;  // within 1e-5 (the output's tolerances, SetUp)
  auto right = measure_one(job(0, 512), compare);
  EXPECT_EQ(right.status, MeasurementStatus::ok) << right.message;
  // Outputs of a few hundred MiB are compared on the GPU (the reference is kept there): the
  // verdict and the first mismatch are the host comparison's, exactly.
  EXPECT_TRUE(right.verified_on_device);
  EXPECT_EQ(right.max_abs_error, 0.0);
  auto wrong = measure_one(job(1), compare);
  EXPECT_EQ(wrong.status, MeasurementStatus::wrong_result);
  EXPECT_NE(wrong.message.find("elements differ from the reference"), std::string::npos) << wrong.message;
  EXPECT_NE(wrong.message.find(std::to_string(kFloats / 4) + " of " + std::to_string(kFloats) + " elements differ"), std::string::npos)
      << wrong.message;  // x of every float4 is off by one
  EXPECT_NE(wrong.message.find("first at [0]"), std::string::npos) << wrong.message;
  EXPECT_NEAR(wrong.max_abs_error, 1.0, 1e-6);
  std::printf("%s\n", wrong.message.c_str());
}

TEST_F(GpuRunnerTest, OutOfBoundsIsALaunchErrorAndTheRunnerRecovers) {
  MeasureOptions reference;
  reference.verify = VerifyMode::set_reference;
  ASSERT_EQ(measure_one(job(0), reference).status, MeasurementStatus::ok);
  auto m = measure_one(job(2));
  EXPECT_EQ(m.status, MeasurementStatus::launch_error);
  EXPECT_NE(m.message.find("CUDA_ERROR_ILLEGAL_ADDRESS"), std::string::npos) << m.message;
  MeasureOptions compare;
  compare.verify = VerifyMode::compare;
  auto after = measure_one(job(0), compare);  // a new runner, with the reference restored
  EXPECT_EQ(after.status, MeasurementStatus::ok) << after.message;
  EXPECT_EQ(runner_->restarts(), 1u);
}

TEST_F(GpuRunnerTest, AKernelThatNeverEndsTimesOut) {
  MeasureOptions options;
  options.kernel_timeout_seconds = 1.0;
  auto m = measure_one(job(3, 32), options);
  EXPECT_EQ(m.status, MeasurementStatus::timeout) << m.message;
  expect_copy_still_works();
  EXPECT_GE(runner_->restarts(), 1u);
}

TEST_F(GpuRunnerTest, HundredKilobytesOfDynamicSharedMemory) {
  auto m = measure_one(job(4, 256, 100 * 1024));
  EXPECT_EQ(m.status, MeasurementStatus::ok) << m.message;
  auto too_much = measure_one(job(4, 256, 240 * 1024));
  EXPECT_EQ(too_much.status, MeasurementStatus::invalid_config);
  EXPECT_NE(too_much.message.find("exceeds the device's"), std::string::npos) << too_much.message;
  auto block = measure_one(job(0, 2048));
  EXPECT_EQ(block.status, MeasurementStatus::invalid_config);
  EXPECT_EQ(runner_->restarts(), 0u);  // nothing was launched, nothing was poisoned
}

TEST_F(GpuRunnerTest, HopelessConfigurationsArePruned) {
  MeasureOptions options;
  options.best_median_ns = 1000;  // 1 us: the 256 MiB copy cannot come close
  auto m = measure_one(job(0), options);
  EXPECT_EQ(m.status, MeasurementStatus::pruned);
  EXPECT_LE(m.stats.samples, 5u);
  EXPECT_GT(m.stats.median_ns, 1000);
}

// The first launch from a freshly loaded module pays for lazy loading, several times a kernel of a
// few microseconds: a kernel as fast as the best so far must not be pruned for it (every
// reduce_rows configuration at 8192x8192 was, on the H100, before the second-launch check).
TEST_F(GpuRunnerTest, AShortKernelIsNotPrunedForTheFirstLaunchOfItsModule) {
  auto short_copy = [&](const workers::CompileResult& compiled) {
    KernelJob j = job(0);
    j.cubin = compiled.cubin;
    j.lowered_name = j.label = compiled.lowered_names.front();
    const std::int64_t n4 = kVec / 256;  // 1 MiB: a few microseconds
    j.launch.scalars[0].integer = n4;
    j.launch.shape = {{(n4 + 255) / 256, 1, 1}, {256, 1, 1}, 0};
    return j;
  };
  auto reference = measure_one(short_copy(*compiled_));
  ASSERT_EQ(reference.status, MeasurementStatus::ok) << reference.message;

  workers::CompileJob fresh;  // another module: its first launch loads it
  fresh.source = R"(extern "C" __global__ void copy_again(const float4* in, float4* out, int n4) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n4) out[i] = in[i];
  })";
  fresh.name_expressions = {"copy_again"};
  fresh.arch = cuda::list_devices()->front().arch;
  auto compiled = workers::compile_with_nvrtc(fresh);
  ASSERT_TRUE(compiled.ok()) << compiled.log;
  MeasureOptions options;
  options.best_median_ns = reference.stats.median_ns;
  auto m = measure_one(short_copy(compiled), options);
  EXPECT_EQ(m.status, MeasurementStatus::ok) << m.message << " (best so far " << reference.stats.median_ns << " ns)";
}

// Issue #7: the runner killed from outside in the middle of a measurement (OOM killer, an
// operator) — the configurations in flight come back as `crash`, the caller goes on, and the next
// request respawns the runner with the problem restored.
TEST_F(GpuRunnerTest, ARunnerKilledMidMeasurementIsRespawnedAndTheCallerGoesOn) {
  MeasureOptions slow;  // thousands of samples per configuration: the batch runs for seconds
  slow.rule.min_samples = 4000;
  slow.rule.max_samples = 4000;
  slow.rule.max_standard_error = -1;  // never precise enough
  slow.rule.budget_floor_seconds = 30;
  slow.rule.budget_seconds = 30;
  const int pid = runner_->hello().pid;
  ASSERT_GT(pid, 0);
  std::thread killer([pid] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    ::kill(pid, SIGKILL);
  });
  const auto started = std::chrono::steady_clock::now();
  auto r = runner_->measure({job(0), job(0, 512), job(0, 1024)}, slow);
  killer.join();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  ASSERT_EQ(r->size(), 3u);
  for (const auto& m : *r) {
    EXPECT_EQ(m.status, MeasurementStatus::crash) << m.message;
    EXPECT_NE(m.message.find("signal"), std::string::npos) << m.message;
  }
  expect_copy_still_works();
  EXPECT_EQ(runner_->restarts(), 1u);
  EXPECT_NE(runner_->hello().pid, pid);
}

TEST_F(GpuRunnerTest, InterleavedMeasurementOfSeveralConfigurations) {
  auto r = runner_->measure({job(0, 128), job(0, 256), job(0, 512)}, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  for (const auto& m : *r) {
    EXPECT_EQ(m.status, MeasurementStatus::ok) << m.message;
    EXPECT_GE(m.stats.samples, 10u);
  }
}

}  // namespace
