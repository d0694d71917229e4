// Real data in a spec (issue #16): inputs from .npy/raw files, normal and integer-range data with
// bounds over sizes, copies of another argument, reference answers from files, a reference
// kernel, tolerances per output with defaults by element type, __constant__ symbols. Parsing
// (every field, every mistake with a clear error), make_problem at sizes, and what joins the keys.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"
#include "engine/model/tuning_question.hpp"
#include "engine/runner/host_data.hpp"

using namespace ktune;
using runner::BufferInit;

namespace {

// tests/data/npy holds files written by numpy: f4.npy and f8.npy are arange(6).reshape(2, 3).
const std::filesystem::path kNpy = std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/data/npy";

const char* kSource = R"(
__constant__ float weights[16];
extern "C" __global__ void scale(const float* x, float* y, const int* idx, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[idx[i]] * weights[i % 16];
}
extern "C" __global__ void scale_naive(const float* x, float* y, const int* idx, int n) {
  for (int i = 0; i < n; ++i) y[i] = x[idx[i]] * weights[i % 16];
}
)";

// A spec whose args, verify and constants are given as JSON text.
Result<KernelSpec> spec_with(const std::string& args, const std::string& verify = "", const std::string& constants = "") {
  std::string source = kSource;
  std::string escaped;
  for (char c : source) {
    if (c == '\n') escaped += "\\n";
    else if (c == '"') escaped += "\\\"";
    else escaped += c;
  }
  std::string text = R"J({"ktune_spec": 1, "name": "scale", "entry": "scale", "sizes": ["n"],
    "source": {"code": ")J" + escaped + R"J("},
    "params": {"TB": [64, 128]}, "default": {"TB": 128},
    "launch": {"grid": ["ceil_div(n, TB)"], "block": ["TB"]},
    "args": )J" + args;
  if (!verify.empty()) text += R"(, "verify": )" + verify;
  if (!constants.empty()) text += R"(, "constants": )" + constants;
  text += "}";
  return KernelSpec::from_json_text(text, kNpy);
}

const std::string kArgs = R"([
  {"name": "x", "type": "const float*", "count": "n", "init": "normal"},
  {"name": "y", "type": "float*", "count": "n", "output": true},
  {"name": "idx", "type": "const int*", "count": "n", "init": {"integers": {"min": 0, "max": "n - 1"}}},
  {"name": "n", "type": "int", "value": "n"}])";

void expect_error(const Result<KernelSpec>& spec, const std::string& words) {
  ASSERT_FALSE(spec.ok()) << "expected an error with: " << words;
  EXPECT_NE(spec.error().message.find(words), std::string::npos) << spec.error().message;
}

}  // namespace

TEST(SpecData, GeneratorsParseAndEvaluateTheirBoundsAtSizes) {
  auto spec = spec_with(kArgs);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->args[0].init.kind, BufferInit::Kind::normal);
  EXPECT_EQ(spec->args[0].init.mean, 0.0);
  EXPECT_EQ(spec->args[0].init.stddev, 1.0);
  EXPECT_EQ(spec->args[2].init.kind, BufferInit::Kind::integers);
  auto problem = make_problem(*spec, {{"n", 1000}});
  ASSERT_TRUE(problem.ok()) << problem.error().message;
  EXPECT_EQ(problem->buffers[2].init.int_low, 0);
  EXPECT_EQ(problem->buffers[2].init.int_high, 999);
  // The indices generated are within [0, n - 1] and the same every time.
  std::vector<std::byte> a(4000), b(4000);
  runner::fill_buffer(a, ElementType::i32, problem->buffers[2].init);
  runner::fill_buffer(b, ElementType::i32, problem->buffers[2].init);
  EXPECT_EQ(a, b);
  std::int32_t lowest = 1 << 30, highest = -1;
  for (std::size_t i = 0; i < 1000; ++i) {
    std::int32_t v;
    std::memcpy(&v, a.data() + 4 * i, 4);
    lowest = std::min(lowest, v);
    highest = std::max(highest, v);
  }
  EXPECT_GE(lowest, 0);
  EXPECT_LE(lowest, 10);
  EXPECT_LE(highest, 999);
  EXPECT_GE(highest, 990);

  auto custom = spec_with(R"([
    {"name": "x", "type": "const float*", "count": "n", "init": {"normal": {"mean": 5, "stddev": 0.5}}},
    {"name": "y", "type": "float*", "count": "n", "output": true, "init": {"copy": "x"}},
    {"name": "idx", "type": "const int8*", "count": "n", "init": {"integers": {"min": "-n", "max": "n"}}},
    {"name": "n", "type": "int", "value": "n"}])");
  ASSERT_TRUE(custom.ok()) << custom.error().message;
  EXPECT_EQ(custom->args[0].init.mean, 5.0);
  EXPECT_EQ(custom->args[0].init.stddev, 0.5);
  auto copied = make_problem(*custom, {{"n", 100}});
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(copied->buffers[1].init.kind, BufferInit::Kind::copy);
  EXPECT_EQ(copied->buffers[1].init.source, 0u);
  // Bounds that do not fit the element type at these sizes: a clear error, not saturated data.
  auto too_wide = make_problem(*custom, {{"n", 1000}});
  ASSERT_FALSE(too_wide.ok());
  EXPECT_NE(too_wide.error().message.find("args.idx.init.integers: [-1000, 1000] does not fit int8"), std::string::npos)
      << too_wide.error().message;
}

TEST(SpecData, GeneratorMistakesAreNamed) {
  auto with_init = [](const std::string& init, const std::string& type = "const float*") {
    return spec_with(R"([{"name": "x", "type": ")" + type + R"(", "count": "n", "init": )" + init + R"(},
      {"name": "y", "type": "float*", "count": "n", "output": true},
      {"name": "n", "type": "int", "value": "n"}])");
  };
  expect_error(with_init(R"({"normal": {"stddev": -1}})"), "args.x.init.normal: mean must be finite and stddev finite and non-negative");
  expect_error(with_init(R"({"normal": {"sigma": 1}})"), "args.x.init.normal.sigma: unknown field");
  expect_error(with_init(R"({"integers": {"min": 0}})"), "args.x.init.integers.max: missing required field");
  expect_error(with_init(R"({"integers": {"min": 0, "max": "TB"}})"), "args.x.init.integers.max: depends on parameter TB");
  expect_error(with_init(R"({"integers": {"min": 0, "max": "m"}})"), "unknown name 'm'");
  expect_error(with_init(R"({"copy": "x"})"), "args.x.init.copy: a buffer cannot be a copy of itself");
  expect_error(with_init(R"({"copy": "n"})"), "args.x.init.copy: \"n\" is not a buffer argument");
  expect_error(with_init(R"({"copy": "y"})", "const double*"), "args.x.init.copy: \"y\" holds float, this buffer double");
  expect_error(with_init(R"("gaussian")"), "args.x.init: must be \"random\", \"normal\"");
  expect_error(with_init(R"({"npy": "missing.npy"})"), "args.x.init.npy: " + (kNpy / "missing.npy").string() + ": no such file");
  expect_error(with_init(R"({"npy": "f8.npy"})"), "args.x.init.npy: f8.npy holds (2, 3) of double, the destination is float");
  expect_error(with_init(R"({"npy": "fortran.npy"})"), "Fortran");
  expect_error(with_init(R"({"csv": "f4.npy"})"), "args.x.init.csv: unknown field");
  auto ok = with_init(R"({"integers": {"min": "n", "max": 0}})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  auto inverted = make_problem(*ok, {{"n", 5}});
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.error().message.find("min 5 is above max 0 at these sizes"), std::string::npos) << inverted.error().message;
}

TEST(SpecData, InputsFromFilesAreCheckedAgainstTheBufferAtSizes) {
  auto spec = spec_with(R"([
    {"name": "x", "type": "const float*", "count": "n", "init": {"npy": "f4.npy"}},
    {"name": "y", "type": "float*", "count": "n", "output": true},
    {"name": "idx", "type": "const uint8*", "count": "n", "init": {"raw": "b1.npy"}},
    {"name": "n", "type": "int", "value": "n"}])");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->args[0].init.kind, BufferInit::Kind::file);
  EXPECT_EQ(spec->args[0].init.file.format, DataFormat::npy);
  EXPECT_EQ(spec->args[0].init.file.path, (kNpy / "f4.npy").string());
  EXPECT_EQ(spec->args[0].init.file.digest.size(), 32u);
  auto wrong_size = make_problem(*spec, {{"n", 7}});
  ASSERT_FALSE(wrong_size.ok());
  EXPECT_NE(wrong_size.error().message.find("args.x.init: f4.npy holds 6 elements (2, 3) of float, the destination has 7 at these sizes"),
            std::string::npos)
      << wrong_size.error().message;
  auto fits = make_problem(*spec, {{"n", 6}});
  ASSERT_FALSE(fits.ok());  // the raw file b1.npy is 134 bytes: not 6 uint8
  EXPECT_NE(fits.error().message.find("args.idx.init: b1.npy holds 134 elements"), std::string::npos) << fits.error().message;
  // The runner's fill reads the file's data (0..5 as float).
  auto x_only = spec_with(R"([
    {"name": "x", "type": "const float*", "count": "n", "init": {"npy": "f4.npy"}},
    {"name": "y", "type": "float*", "count": "n", "output": true},
    {"name": "n", "type": "int", "value": "n"}])");
  ASSERT_TRUE(x_only.ok()) << x_only.error().message;
  auto problem = make_problem(*x_only, {{"n", 6}});
  ASSERT_TRUE(problem.ok()) << problem.error().message;
  std::vector<std::byte> data(24);
  ASSERT_TRUE(runner::fill_input(data, ElementType::f32, problem->buffers[0].init).ok());
  float values[6];
  std::memcpy(values, data.data(), 24);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(values[i], static_cast<float>(i));
}

TEST(SpecData, AnswersToleranceDefaultsAndWhatTheReportSays) {
  auto spec = spec_with(R"([
    {"name": "x", "type": "const float*", "count": "n", "init": "random"},
    {"name": "y", "type": "float*", "count": "n", "output": true},
    {"name": "h", "type": "half*", "count": "n", "output": true},
    {"name": "d", "type": "double*", "count": "n", "output": true},
    {"name": "c", "type": "int*", "count": "n", "output": true},
    {"name": "n", "type": "int", "value": "n"}])",
                        R"({"outputs": {"d": {"answer": {"npy": "f8.npy"}, "rtol": 1e-6}, "y": {"atol": 0.5}}})");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto tolerance = [&](std::size_t arg) { return spec->verify.tolerances_for(spec->args[arg]); };
  EXPECT_EQ(tolerance(1), (Tolerances{1e-4, 0.5}));
  EXPECT_EQ(tolerance(2), (Tolerances{1e-2, 1e-2}));
  EXPECT_EQ(tolerance(3), (Tolerances{1e-6, 1e-8}));
  EXPECT_EQ(tolerance(4), (Tolerances{0, 0}));
  EXPECT_EQ(default_tolerances(ElementType::bf16), (Tolerances{5e-2, 5e-2}));
  EXPECT_TRUE(spec->needs_reference_run());
  EXPECT_EQ(spec->describe_reference(), "d: answer file f8.npy; other outputs: configuration TB=128 of the same kernel");
  auto problem = make_problem(*spec, {{"n", 6}});
  ASSERT_TRUE(problem.ok()) << problem.error().message;
  ASSERT_TRUE(problem->buffers[3].answer.has_value());
  EXPECT_EQ(problem->buffers[3].answer->path, (kNpy / "f8.npy").string());
  EXPECT_EQ(problem->buffers[3].rtol, 1e-6);
  EXPECT_FALSE(problem->buffers[1].answer.has_value());
  EXPECT_EQ(problem->buffers[4].rtol, 0.0);
  auto wrong_size = make_problem(*spec, {{"n", 5}});
  ASSERT_FALSE(wrong_size.ok());
  EXPECT_NE(wrong_size.error().message.find("verify.outputs.d.answer: f8.npy holds 6 elements"), std::string::npos)
      << wrong_size.error().message;

  // Spec-wide tolerances apply to every output unless one says otherwise; every output from a
  // file needs no reference run.
  auto files = spec_with(R"([
    {"name": "x", "type": "const float*", "count": "n", "init": "random"},
    {"name": "y", "type": "float*", "count": "n", "output": true},
    {"name": "n", "type": "int", "value": "n"}])",
                         R"({"rtol": 0.25, "outputs": {"y": {"answer": {"npy": "f4.npy"}}}})");
  ASSERT_TRUE(files.ok()) << files.error().message;
  EXPECT_EQ(files->verify.tolerances_for(files->args[1]), (Tolerances{0.25, 1e-4}));
  EXPECT_FALSE(files->needs_reference_run());
  EXPECT_EQ(files->describe_reference(), "y: answer file f4.npy");

  expect_error(spec_with(kArgs, R"({"outputs": {"x": {"rtol": 1}}})"), "verify.outputs.x: \"x\" is not an output buffer");
  expect_error(spec_with(kArgs, R"({"outputs": {"y": {"rtol": -1}}})"), "verify.outputs.y.rtol: must be a non-negative number");
  expect_error(spec_with(kArgs, R"({"outputs": {"y": {"answer": "y.npy"}}})"),
               "verify.outputs.y.answer: must be {\"npy\": \"file.npy\"} or {\"raw\": \"file.bin\", \"type\": ..., \"shape\": [...]}");
  expect_error(spec_with(kArgs, R"({"outputs": {"y": {"answer": {"npy": "i8.npy"}}}})"),
               "verify.outputs.y.answer.npy: i8.npy holds (2, 3) of int64, the destination is float");
  expect_error(spec_with(kArgs, R"({"outputs": {"y": {"expected": 1}}})"), "verify.outputs.y.expected: unknown field");
}

TEST(SpecData, ARawFileMayStateItsTypeAndShape) {
  // f4.npy read raw is 152 bytes: 38 floats (header bytes included, as raw data would be).
  auto spec = spec_with(R"([
    {"name": "x", "type": "const float*", "count": "n", "init": {"raw": "f4.npy", "type": "float", "shape": [2, "n / 2"]}},
    {"name": "y", "type": "float*", "count": "n", "output": true},
    {"name": "n", "type": "int", "value": "n"}])",
                        R"({"outputs": {"y": {"answer": {"raw": "f4.npy", "shape": ["n"]}}}})");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->args[0].init.file.format, DataFormat::raw);
  EXPECT_EQ(spec->args[0].init.data_file->shape.size(), 2u);
  EXPECT_TRUE(make_problem(*spec, {{"n", 38}}).ok());
  auto odd = make_problem(*spec, {{"n", 37}});
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.error().message.find("holds 38 elements"), std::string::npos) << odd.error().message;
  auto with_shape = spec_with(R"([
    {"name": "x", "type": "const float*", "count": "n", "init": {"raw": "f4.npy", "shape": [3, "n / 3"]}},
    {"name": "y", "type": "float*", "count": "n", "output": true},
    {"name": "n", "type": "int", "value": "n"}])");
  ASSERT_TRUE(with_shape.ok()) << with_shape.error().message;
  auto wrong_shape = make_problem(*with_shape, {{"n", 38}});
  ASSERT_FALSE(wrong_shape.ok());
  EXPECT_NE(wrong_shape.error().message.find("args.x.init.shape: (3, 12) holds 36 elements, the destination has 38 at these sizes"),
            std::string::npos)
      << wrong_shape.error().message;
  auto init = [](const std::string& file) {
    return spec_with(R"([{"name": "x", "type": "const float*", "count": "n", "init": )" + file + R"(},
      {"name": "y", "type": "float*", "count": "n", "output": true}, {"name": "n", "type": "int", "value": "n"}])");
  };
  expect_error(init(R"({"raw": "f4.npy", "type": "double"})"), "args.x.init.type: double is not the destination's type, float");
  expect_error(init(R"({"raw": "f4.npy", "type": "quad"})"), "args.x.init.type: must be an element type");
  expect_error(init(R"({"raw": "f4.npy", "shape": ["TB"]})"), "args.x.init.shape[0]: depends on parameter TB");
  expect_error(init(R"({"raw": "f4.npy", "dims": [1]})"), "args.x.init.dims: unknown field");
  expect_error(init(R"({"npy": "f4.npy", "shape": [6]})"), "args.x.init: must be \"random\"");
}

TEST(SpecData, AReferenceKernelIsInstantiatedWithItsOwnGeometry) {
  auto spec = spec_with(kArgs, R"({"against": {"kernel": {"entry": "scale_naive", "launch": {"grid": [1], "block": [1]},
                                   "compile": {"options": ["-DNAIVE=1"]}}}})");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_TRUE(spec->verify.kernel.has_value());
  EXPECT_EQ(spec->describe_reference(), "reference kernel scale_naive");
  auto instance = instantiate_reference(*spec, {{"n", 1000}}, "sm_90");
  ASSERT_TRUE(instance.ok()) << instance.error().message;
  EXPECT_EQ(instance->compile.name_expressions, (std::vector<std::string>{"scale_naive"}));
  EXPECT_EQ(instance->compile.source, spec->source);  // a second entry of the same source
  EXPECT_EQ(instance->launch.shape.grid[0], 1);
  EXPECT_EQ(instance->launch.shape.block[0], 1);
  ASSERT_EQ(instance->launch.scalars.size(), 1u);
  EXPECT_EQ(instance->launch.scalars[0].integer, 1000);
  EXPECT_NE(std::find(instance->compile.defines.begin(), instance->compile.defines.end(), "-DTB=128"), instance->compile.defines.end());
  EXPECT_NE(std::find(instance->compile.options.begin(), instance->compile.options.end(), "-DNAIVE=1"), instance->compile.options.end());

  expect_error(spec_with(kArgs, R"({"against": {"kernel": {"entry": "nowhere", "launch": {"grid": [1], "block": [1]}}}})"),
               "verify.against.kernel.entry: \"nowhere\" does not appear in the reference kernel's source");
  expect_error(spec_with(kArgs, R"({"against": {"kernel": {"entry": "scale_naive"}}})"), "verify.against.kernel.launch: missing required field");
  expect_error(spec_with(kArgs, R"({"against": {"kernel": {"entry": "scale_naive", "launch": {"grid": [1], "block": ["q"]}}}})"),
               "unknown name 'q'");
  expect_error(spec_with(kArgs, R"({"against": {"kernel": {"entry": "scale_naive", "launch": {"grid": [1], "block": [1]}}, "TB": 64}})"),
               "verify.against: {\"kernel\": {...}} names a reference kernel and nothing else");
  expect_error(spec_with(R"([
    {"name": "x", "type": "const float*", "count": "n", "init": "random"},
    {"name": "y", "type": "float*", "count": "n", "output": true},
    {"name": "n", "type": "int", "value": "n"}])",
                         R"({"against": {"kernel": {"entry": "scale_naive", "launch": {"grid": [1], "block": [1]}}},
                             "outputs": {"y": {"answer": {"npy": "f4.npy"}}}})"),
               "every output has an answer file, so the reference kernel would never be used");
}

TEST(SpecData, ConstantSymbols) {
  auto spec = spec_with(kArgs, "", R"([{"name": "weights", "type": "float", "count": 16, "init": {"random": {"min": 0, "max": 1}}},
                                       {"name": "table", "type": "double", "init": {"npy": "f8.npy"}}])");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_EQ(spec->constants.size(), 2u);
  auto problem = make_problem(*spec, {{"n", 100}});
  ASSERT_TRUE(problem.ok()) << problem.error().message;
  ASSERT_EQ(problem->constants.size(), 2u);
  EXPECT_EQ(problem->constants[0].symbol, "weights");
  EXPECT_EQ(problem->constants[0].bytes, 64u);
  EXPECT_EQ(problem->constants[1].count, 6u);  // the file's count
  EXPECT_EQ(problem->constants[1].init.kind, BufferInit::Kind::file);
  // Constants get their own seeds: not the same data as any argument.
  EXPECT_NE(problem->constants[0].init.seed, problem->buffers[0].init.seed);

  expect_error(spec_with(kArgs, "", R"([{"name": "w", "type": "float", "init": "random"}])"),
               "constants.w.count: missing required field (only data from a file has its own count)");
  expect_error(spec_with(kArgs, "", R"([{"name": "w", "type": "float", "count": 4, "init": {"copy": "x"}}])"),
               "constants.w.init: a constant cannot be a copy of an argument");
  expect_error(spec_with(kArgs, "", R"([{"name": "w", "type": "float", "count": "TB", "init": "random"}])"),
               "constants.w.count: depends on parameter TB");
  expect_error(spec_with(kArgs, "", R"([{"name": "w", "type": "float", "count": 4, "init": "random"},
                                        {"name": "w", "type": "float", "count": 4, "init": "random"}])"),
               "constants[1].name: \"w\" is listed twice");
  expect_error(spec_with(kArgs, "", R"([{"name": "w", "type": "quad", "count": 4, "init": "random"}])"), "constants.w.type: unknown element type");
  expect_error(spec_with(kArgs, "", R"([{"name": "w", "type": "float", "count": 4, "init": "random", "size": 1}])"),
               "constants[0].size: unknown field");
  auto huge = spec_with(kArgs, "", R"([{"name": "w", "type": "float", "count": "n", "init": "random"}])");
  ASSERT_TRUE(huge.ok()) << huge.error().message;
  auto refused = make_problem(*huge, {{"n", 1 << 20}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("more than constant memory holds"), std::string::npos) << refused.error().message;
}

// Docs/keys.md: data joins the measurement key (inputs form), the constant symbols the kernel key,
// the reference (files, kernel) and tolerances the recorded verification identity.
TEST(SpecData, WhatJoinsTheKeys) {
  auto base = spec_with(kArgs);
  auto other_bound = spec_with(R"([
    {"name": "x", "type": "const float*", "count": "n", "init": "normal"},
    {"name": "y", "type": "float*", "count": "n", "output": true},
    {"name": "idx", "type": "const int*", "count": "n", "init": {"integers": {"min": 0, "max": "n - 2"}}},
    {"name": "n", "type": "int", "value": "n"}])");
  ASSERT_TRUE(base.ok() && other_bound.ok());
  EXPECT_EQ(kernel_key(*base), kernel_key(*other_bound));
  EXPECT_NE(measurement_inputs_form(*base), measurement_inputs_form(*other_bound));
  EXPECT_EQ(measurement_inputs_form(*base),
            R"({"init":[{"normal":[0.0,1.0]},"zeros",{"integers":["0","n-1"]}],"seed":461515353701})");

  auto with_constant = spec_with(kArgs, "", R"([{"name": "weights", "type": "float", "count": 16, "init": {"npy": "f4.npy"}}])");
  ASSERT_TRUE(with_constant.ok()) << with_constant.error().message;
  EXPECT_NE(kernel_key(*base), kernel_key(*with_constant));
  EXPECT_NE(measurement_inputs_form(*with_constant).find(R"("constants":[{"npy":")"), std::string::npos);

  // A reference configuration with one tolerance pair keeps the identity recorded before #16.
  EXPECT_EQ(verification_identity(*base), R"({"against":"TB=128","atol":0.0001,"rtol":0.0001})");
  auto kernel_reference =
      spec_with(kArgs, R"({"against": {"kernel": {"entry": "scale_naive", "launch": {"grid": [1], "block": [1]}}}})");
  ASSERT_TRUE(kernel_reference.ok()) << kernel_reference.error().message;
  // A winner verified against its own configuration is not served to a spec with a reference
  // kernel (the kernel key differs), while measurements are shared and filtered on read.
  EXPECT_NE(kernel_key(*base), kernel_key(*kernel_reference));
  const Sizes sizes{{"n", 1000}};
  const DeviceSignature device{"NVIDIA H200", "sm_90"};
  EXPECT_EQ(TuningQuestion({&*base, sizes, device, {"13.0"}}).measurement_key(),
            TuningQuestion({&*kernel_reference, sizes, device, {"13.0"}}).measurement_key());
  EXPECT_NE(verification_identity(*base), verification_identity(*kernel_reference));
  EXPECT_NE(verification_identity(*kernel_reference).find(R"("against":{"kernel":")"), std::string::npos);
  auto answer = spec_with(kArgs, R"({"outputs": {"y": {"answer": {"raw": "f4.npy"}}}})");
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_NE(verification_identity(*answer).find(answer->verify.outputs[0].answer->ref.digest), std::string::npos);
}

TEST(HostDataGenerators, NormalDataIsDeterministicWithItsMoments) {
  BufferInit normal;
  normal.kind = BufferInit::Kind::normal;
  normal.mean = 3;
  normal.stddev = 2;
  normal.seed = 11;
  std::vector<std::byte> a(8 * 200000), b(8 * 200000);
  runner::fill_buffer(a, ElementType::f64, normal);
  runner::fill_buffer(b, ElementType::f64, normal);
  EXPECT_EQ(a, b);
  double sum = 0, squares = 0;
  for (std::size_t i = 0; i < 200000; ++i) {
    double v;
    std::memcpy(&v, a.data() + 8 * i, 8);
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    squares += v * v;
  }
  const double mean = sum / 200000, variance = squares / 200000 - mean * mean;
  EXPECT_NEAR(mean, 3.0, 0.02);
  EXPECT_NEAR(std::sqrt(variance), 2.0, 0.02);
  normal.seed = 12;
  runner::fill_buffer(b, ElementType::f64, normal);
  EXPECT_NE(a, b);
}

TEST(HostDataGenerators, IntegerRangesAreExactAtTheExtremes) {
  BufferInit range;
  range.kind = BufferInit::Kind::integers;
  range.int_low = INT64_MAX - 3;
  range.int_high = INT64_MAX;
  range.seed = 5;
  std::vector<std::byte> out(8 * 1000);
  runner::fill_buffer(out, ElementType::i64, range);
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < 1000; ++i) {
    std::int64_t v;
    std::memcpy(&v, out.data() + 8 * i, 8);
    ASSERT_GE(v, INT64_MAX - 3);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 4u);  // every value of the range, exactly (no rounding through double)
  range.int_low = INT64_MIN;   // the whole 64-bit range
  range.int_high = INT64_MAX;
  runner::fill_buffer(out, ElementType::i64, range);
  BufferInit single = range;
  single.int_low = single.int_high = -7;
  std::vector<std::byte> bytes(3);
  runner::fill_buffer(bytes, ElementType::i8, single);
  EXPECT_EQ(bytes, std::vector<std::byte>(3, std::byte{0xf9}));
  std::vector<std::byte> floats(4 * 2);
  range.int_low = 10;
  range.int_high = 10;
  runner::fill_buffer(floats, ElementType::f32, range);
  float f;
  std::memcpy(&f, floats.data(), 4);
  EXPECT_EQ(f, 10.0f);
  BufferInit copy;
  copy.kind = BufferInit::Kind::copy;
  EXPECT_FALSE(runner::fill_input(bytes, ElementType::i8, copy).ok());
}

// The spec's "seed" reaches every generator, wherever it is written in the file (it used to be
// read after the arguments, so their data ignored it while the key said otherwise).
TEST(SpecData, TheSpecSeedChangesEveryGeneratorsSeed) {
  auto plain = spec_with(kArgs);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  std::string text = R"J({"ktune_spec": 1, "name": "s", "entry": "k", "sizes": ["n"], "seed": 7,
    "source": {"code": "extern \"C\" __global__ void k(const float* x, float* y, int n) {}"},
    "params": {"TB": [64]}, "default": {"TB": 64},
    "launch": {"grid": ["ceil_div(n, TB)"], "block": ["TB"]},
    "args": [{"name": "x", "type": "const float*", "count": "n", "init": "normal"},
             {"name": "y", "type": "float*", "count": "n", "output": true},
             {"name": "n", "type": "int", "value": "n"}]})J";
  auto seeded = KernelSpec::from_json_text(text);
  ASSERT_TRUE(seeded.ok()) << seeded.error().message;
  EXPECT_EQ(seeded->seed, 7u);
  // Same position (0), same generator: only the spec's seed differs.
  EXPECT_NE(seeded->args[0].init.seed, plain->args[0].init.seed);
  EXPECT_EQ(seeded->args[0].init.seed, 7u ^ 0x9e3779b97f4a7c15ULL);
}
