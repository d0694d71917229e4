// Real data on a GPU, through the whole engine (spec → problem → runner → verification → store):
// a reference kernel catches an error every configuration shares (which verification against a
// configuration of the same kernel cannot), a reference answer from a .npy file, tolerances per
// output, inputs from a file, and __constant__ memory filled from a file and from a generator
// (a kernel whose output depends on the constant data). Skips without a driver.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/cuda/driver_api.hpp"
#include "engine/engine.hpp"

namespace {

using namespace ktune;

const char* kSource = R"(
__constant__ float weights[16];
// y = 2 x, with an error every configuration shares: the last element is never written.
extern "C" __global__ void twice_buggy(const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n - 1) y[i] = 2.0f * x[i];
}
extern "C" __global__ void twice_naive(const float* x, float* y, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) y[i] = 2.0f * x[i];
}
extern "C" __global__ void twice(const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = 2.0f * x[i];
}
// y = x * weights[i % 16]: wrong unless the constant memory holds the data the answer was made with.
extern "C" __global__ void weighted(const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[i] * weights[i % 16];
}
)";

constexpr int kN = 4096;

// A .npy file (format 1.0) of float32 values, as numpy.save writes it.
void write_npy(const std::filesystem::path& path, const std::vector<float>& values) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(values.size()) + ",), }";
  dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  std::ofstream(path, std::ios::binary) << out;
}

class GpuReferenceData : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto devices = cuda::list_devices(); !devices) GTEST_SKIP() << "no GPU here: " << devices.error().message;
    dir_ = std::filesystem::temp_directory_path() / ("ktune-gpu-reference-data-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    EngineOptions options;
    options.store_path = dir_ / "store.db";
    options.cubin_cache_dir = dir_ / "cubins";
    engine_ = Engine::create(options).value_or_throw();
    // x = 0, 1, 2, ... / 16 (exact in float), written as a file input.
    x_.resize(kN);
    for (int i = 0; i < kN; ++i) x_[static_cast<std::size_t>(i)] = static_cast<float>(i) / 16.0f;
    write_npy(dir_ / "x.npy", x_);
  }
  void TearDown() override {
    engine_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  KernelSpec spec(const std::string& entry, const std::string& verify, const std::string& constants = "") {
    std::string escaped;
    for (char c : std::string(kSource)) {
      if (c == '\n') escaped += "\\n";
      else if (c == '"') escaped += "\\\"";
      else escaped += c;
    }
    std::string text = R"J({"ktune_spec": 1, "name": "data", "entry": ")J" + entry + R"J(", "sizes": ["n"],
      "source": {"code": ")J" + escaped + R"J("},
      "params": {"TB": [64, 128, 256]}, "default": {"TB": 128},
      "launch": {"grid": ["ceil_div(n, TB)"], "block": ["TB"]},
      "args": [{"name": "x", "type": "const float*", "count": "n", "init": {"npy": "x.npy"}},
               {"name": "y", "type": "float*", "count": "n", "output": true},
               {"name": "n", "type": "int", "value": "n"}],
      "verify": )J" + verify;
    if (!constants.empty()) text += R"J(, "constants": )J" + constants;
    text += "}";
    return KernelSpec::from_json_text(text, dir_).value_or_throw();
  }

  // Every configuration's evaluation (exhaustive, forced), by TB.
  std::map<std::int64_t, Evaluation> tune(const KernelSpec& s, std::string* error = nullptr) {
    std::map<std::int64_t, Evaluation> seen;
    TuneOptions options;
    options.strategy = "exhaustive";
    options.force = true;
    options.hooks.on_evaluation = [&](const Evaluation& e) {
      seen.insert_or_assign(e.measurement.config.front().second, e);
    };
    auto outcome = engine_->tune(s, {{"n", kN}}, options);
    if (!outcome.ok() && error) *error = outcome.error().message;
    if (outcome.ok()) {
      EXPECT_EQ(outcome->report.verified_against, s.describe_reference());
    }
    return seen;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Engine> engine_;
  std::vector<float> x_;
};

TEST_F(GpuReferenceData, AReferenceKernelCatchesAnErrorEveryConfigurationShares) {
  // Against a configuration of the same kernel, the shared error is invisible: everything agrees.
  auto own = tune(spec("twice_buggy", R"({"against": "default"})"));
  ASSERT_EQ(own.size(), 3u);
  for (const auto& [tb, e] : own) EXPECT_EQ(e.measurement.status, MeasurementStatus::ok) << tb << ": " << e.measurement.message;

  // Against the naive kernel (run once, grid-stride, its own geometry), every configuration fails,
  // and the message names the reference. The reference kernel itself is not a recorded evaluation.
  const std::string naive = R"({"against": {"kernel": {"entry": "twice_naive", "launch": {"grid": [4], "block": [32]}}}})";
  auto caught = tune(spec("twice_buggy", naive));
  ASSERT_EQ(caught.size(), 3u);
  for (const auto& [tb, e] : caught) {
    EXPECT_EQ(e.measurement.status, MeasurementStatus::wrong_result) << tb;
    EXPECT_NE(e.measurement.message.find("y: 1 of 4096 elements differ from the reference (reference kernel twice_naive)"),
              std::string::npos)
        << e.measurement.message;
    EXPECT_NE(e.measurement.message.find("first at [4095]"), std::string::npos) << e.measurement.message;
  }
  // A correct kernel passes against the same reference.
  auto right = tune(spec("twice", naive));
  ASSERT_EQ(right.size(), 3u);
  for (const auto& [tb, e] : right) EXPECT_EQ(e.measurement.status, MeasurementStatus::ok) << tb << ": " << e.measurement.message;
}

TEST_F(GpuReferenceData, AnAnswerFileAndItsTolerances) {
  std::vector<float> answer(kN);
  for (std::size_t i = 0; i < answer.size(); ++i) answer[i] = 2.0f * x_[i];
  write_npy(dir_ / "y.npy", answer);
  auto exact = tune(spec("twice", R"({"outputs": {"y": {"answer": {"npy": "y.npy"}}}})"));
  ASSERT_EQ(exact.size(), 3u);
  for (const auto& [tb, e] : exact) {
    EXPECT_EQ(e.measurement.status, MeasurementStatus::ok) << tb << ": " << e.measurement.message;
    EXPECT_EQ(e.diagnostics.max_abs_error, 0.0);
  }
  // An answer off by 0.5 % at one element: wrong within float's default 1e-4, right within 1e-2.
  answer[100] *= 1.005f;
  write_npy(dir_ / "y_off.npy", answer);
  auto strict = tune(spec("twice", R"({"outputs": {"y": {"answer": {"npy": "y_off.npy"}}}})"));
  ASSERT_EQ(strict.size(), 3u);
  for (const auto& [tb, e] : strict) {
    EXPECT_EQ(e.measurement.status, MeasurementStatus::wrong_result) << tb;
    EXPECT_NE(e.measurement.message.find("y_off.npy"), std::string::npos) << e.measurement.message;
    EXPECT_NE(e.measurement.message.find("first at [100]"), std::string::npos) << e.measurement.message;
  }
  auto loose = tune(spec("twice", R"({"outputs": {"y": {"answer": {"npy": "y_off.npy"}, "rtol": 1e-2}}})"));
  ASSERT_EQ(loose.size(), 3u);
  for (const auto& [tb, e] : loose) EXPECT_EQ(e.measurement.status, MeasurementStatus::ok) << tb << ": " << e.measurement.message;
  // The buggy kernel against the answer file: caught like against a reference kernel.
  auto buggy = tune(spec("twice_buggy", R"({"outputs": {"y": {"answer": {"npy": "y.npy"}}}})"));
  for (const auto& [tb, e] : buggy) EXPECT_EQ(e.measurement.status, MeasurementStatus::wrong_result) << tb;
}

TEST_F(GpuReferenceData, ConstantMemoryFromAFileAndFromAGenerator) {
  std::vector<float> weights(16);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = 0.5f + static_cast<float>(i);
  write_npy(dir_ / "weights.npy", weights);
  std::vector<float> answer(kN);
  for (std::size_t i = 0; i < answer.size(); ++i) answer[i] = x_[i] * weights[i % 16];
  write_npy(dir_ / "weighted.npy", answer);
  const std::string verify = R"({"outputs": {"y": {"answer": {"npy": "weighted.npy"}}}})";

  auto from_file = tune(spec("weighted", verify, R"([{"name": "weights", "type": "float", "init": {"npy": "weights.npy"}}])"));
  ASSERT_EQ(from_file.size(), 3u);
  for (const auto& [tb, e] : from_file) EXPECT_EQ(e.measurement.status, MeasurementStatus::ok) << tb << ": " << e.measurement.message;

  // Other constant data (a generator): the output depends on it, so the same answer is wrong.
  auto other = tune(spec("weighted", verify, R"([{"name": "weights", "type": "float", "count": 16, "init": {"constant": 3}}])"));
  ASSERT_EQ(other.size(), 3u);
  for (const auto& [tb, e] : other) EXPECT_EQ(e.measurement.status, MeasurementStatus::wrong_result) << tb;

  // Weights of 1 from the generator make y = x: the x file itself is the answer.
  auto ones = tune(spec("weighted", R"({"outputs": {"y": {"answer": {"npy": "x.npy"}}}})",
                        R"([{"name": "weights", "type": "float", "count": 16, "init": {"integers": {"min": 1, "max": 1}}}])"));
  ASSERT_EQ(ones.size(), 3u);
  for (const auto& [tb, e] : ones) EXPECT_EQ(e.measurement.status, MeasurementStatus::ok) << tb << ": " << e.measurement.message;

  // A symbol the cubin does not have, or data larger than the symbol: clear errors.
  std::string error;
  auto missing = tune(spec("weighted", verify, R"([{"name": "no_such_symbol", "type": "float", "count": 16, "init": "random"}])"), &error);
  for (const auto& [tb, e] : missing) EXPECT_NE(e.measurement.message.find("no __constant__ symbol named no_such_symbol"), std::string::npos) << e.measurement.message;
  if (missing.empty()) {
    EXPECT_NE(error.find("no __constant__ symbol named no_such_symbol"), std::string::npos) << error;
  }
  error.clear();
  auto too_big = tune(spec("weighted", verify, R"([{"name": "weights", "type": "float", "count": 32, "init": "random"}])"), &error);
  for (const auto& [tb, e] : too_big) EXPECT_NE(e.measurement.message.find("__constant__ weights holds 64 bytes, its data is 128 bytes"), std::string::npos) << e.measurement.message;
  if (too_big.empty()) {
    EXPECT_NE(error.find("holds 64 bytes"), std::string::npos) << error;
  }
}

TEST_F(GpuReferenceData, TheConvolutionExampleVerifiesAgainstItsNaiveKernel) {
  auto example = KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/conv2d_cmem.json").value_or_throw();
  TuneOptions options;
  options.strategy = "random";
  options.random_count = 12;
  options.force = true;
  std::size_t ok = 0, wrong = 0;
  options.hooks.on_evaluation = [&](const Evaluation& e) {
    if (e.measurement.status == MeasurementStatus::ok) ++ok;
    if (e.measurement.status == MeasurementStatus::wrong_result) {
      ++wrong;
      ADD_FAILURE() << format_named(e.measurement.config) << ": " << e.measurement.message;
    }
  };
  auto outcome = engine_->tune(example, {{"H", 1000}, {"W", 1500}}, options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_GE(ok, 8u);
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(outcome->report.verified_against, "reference kernel conv2d_naive (conv2d_cmem.cu)");
  std::printf("conv2d_cmem 1000x1500: best %s %.1f us, %zu ok\n", format_named(outcome->report.best).c_str(),
              outcome->report.best_ns / 1e3, ok);
}

}  // namespace
