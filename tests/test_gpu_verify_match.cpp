// verify.match and the objective end to end on a GPU (issue #16): a kernel whose answer depends on
// TF (steps per launch) is verified per TF — against the default at each TF, or against a
// reference kernel compiled with each TF — and tuned by flops per second; the store's best
// answers a lookup. Configurations whose combination has no valid reference fail with a message
// saying so. A buffer whose type follows a named choice is allocated and verified per type. Block
// sizes stay at or below 256 (every CUDA device allows them). Skips without a driver.
#include <gtest/gtest.h>

#include <string>

#include "engine/engine.hpp"
#include "tests/helpers/gpu_engine_test.hpp"

namespace {

using namespace ktune;

// out[i] = in[i] + TF, reached by TF steps of +1 (each step reads and writes registers only).
const char* kSteps = R"J(
__global__ void steps(float* out, const float* in, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float v = in[i];
  for (int s = 0; s < TF; ++s) v += 1.0f;
  out[i] = v;
}
// The reference: the closed form, written independently of the loop.
__global__ void steps_reference(float* out, const float* in, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = in[i] + float(TF);
}
)J";

std::string spec_text(const std::string& params, const std::string& constraints, const std::string& verify,
                      const std::string& extra) {
  std::string code;
  for (const char* c = kSteps; *c; ++c) {
    if (*c == '\n') code += "\\n";
    else if (*c == '"') code += "\\\"";
    else code += *c;
  }
  return R"J({"ktune_spec": 1, "name": "steps", "source": {"code": ")J" + code + R"J("}, "entry": "steps",
    "sizes": ["N"], "params": )J" + params + R"J(, "constraints": )J" + constraints + R"J(,
    "default": {"TF": 1, "B": 64},
    "launch": {"grid": ["ceil_div(N, B)"], "block": ["B"]},
    "args": [{"name": "out", "type": "float*", "count": "N", "output": true},
             {"name": "in", "type": "const float*", "count": "N", "init": {"integers": {"min": 0, "max": 1000}}},
             {"name": "n", "type": "int", "value": "N"}],
    "metrics": {"flops": "TF * N"},
    "verify": )J" + verify + extra + "}";
}

class GpuVerifyMatch : public ktune::testing::GpuEngineTest {};

TEST_F(GpuVerifyMatch, EachTFIsComparedWithTheDefaultAtItsTF) {
  // TF=8 needs B >= 128, so its reference (the default, B=64, at TF=8) is not a valid configuration.
  const KernelSpec spec = KernelSpec::from_json_text(spec_text(R"J({"TF": [1, 2, 8], "B": [64, 128, 256]})J",
                                                               R"J(["TF <= 2 || B >= 128"])J",
                                                               R"J({"against": "default", "match": ["TF"], "rtol": 0, "atol": 0})J", ""))
                              .value_or_throw();
  std::size_t ok = 0, unverifiable = 0;
  TuneOptions options;
  options.strategy = "exhaustive";
  options.force = true;
  options.hooks.on_evaluation = [&](const Evaluation& e) {
    const std::string config = spec.space.format(e.measurement.config);
    const bool eight = config.find("TF=8") != std::string::npos;
    if (eight) {
      EXPECT_EQ(e.measurement.status, MeasurementStatus::invalid_config) << config;
      EXPECT_NE(e.measurement.message.find("cannot be verified: its reference, configuration TF=8 B=64"), std::string::npos)
          << e.measurement.message;
      ++unverifiable;
    } else {
      EXPECT_TRUE(e.measurement.status == MeasurementStatus::ok || e.measurement.status == MeasurementStatus::pruned)
          << config << ": " << e.measurement.message;
      ++ok;
    }
  };
  auto outcome = engine_->tune(spec, {{"N", 1 << 20}}, options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(ok, 6u) << "TF=1 and TF=2 with every B, each against its own TF's reference";
  EXPECT_EQ(unverifiable, 2u);
  EXPECT_NE(outcome->report.verified_against.find("of the same kernel"), std::string::npos) << outcome->report.verified_against;
}

TEST_F(GpuVerifyMatch, AReferenceKernelPerTFAndTheFlopsObjective) {
  const KernelSpec spec =
      KernelSpec::from_json_text(spec_text(R"J({"TF": [1, 64], "B": [64, 128, 256]})J", "[]",
                                           R"J({"against": {"kernel": {"entry": "steps_reference",
                                               "launch": {"grid": ["ceil_div(N, 128)"], "block": [128]}}},
                                               "match": ["TF"], "rtol": 0, "atol": 0})J",
                                           R"J(, "objective": {"maximize": "flops"})J"))
          .value_or_throw();
  const Sizes sizes{{"N", 1 << 24}};
  std::size_t ok = 0;
  const TuneOptions options = exhaustive_options([&](const Evaluation& e) {
    EXPECT_TRUE(measured_correct(e.measurement.status)) << spec.space.format(e.measurement.config) << ": " << e.measurement.message;
    ++ok;
  });
  auto outcome = engine_->tune(spec, sizes, options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(ok, 6u);
  EXPECT_EQ(outcome->report.objective, "flops");
  // 64 register-only steps cost far less than 64 times one memory-bound launch: more flops per second.
  EXPECT_EQ(*find_value(outcome->report.best, "TF"), 64) << spec.space.format(outcome->report.best);
  EXPECT_NE(outcome->report.verified_against.find("reference kernel steps_reference compiled with TF=64"), std::string::npos)
      << outcome->report.verified_against;

  auto device = engine_->device().value_or_throw();
  auto answer = engine_->lookup(spec, sizes, device);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  ASSERT_NE(answer->entry, nullptr);
  EXPECT_EQ(answer->entry->config, outcome->report.best);
}

TEST_F(GpuVerifyMatch, BuffersFollowTheTypeChoiceAndAreVerifiedWithinIt) {
  const KernelSpec spec = KernelSpec::from_json_text(R"J({"ktune_spec": 1, "name": "typed_add",
    "source": {"code": "template <class T, int B> __global__ void add_half(T* out, const T* in, int n) {\n  const int i = blockIdx.x * B + threadIdx.x;\n  if (i < n) out[i] = in[i] + in[i] / T(2);\n}\n"},
    "entry": "add_half", "sizes": ["N"],
    "params": {"T": ["float", "double", "int"], "B": [64, 128, 256]},
    "default": {"T": "float", "B": 64},
    "pass_params": "template", "template_args": ["T", "B"],
    "launch": {"grid": ["ceil_div(N, B)"], "block": ["B"]},
    "args": [{"name": "out", "type": "T*", "count": "N", "output": true},
             {"name": "in", "type": "const T*", "count": "N", "init": {"integers": {"min": 0, "max": 1000}}},
             {"name": "n", "type": "int", "value": "N"}]})J")
                              .value_or_throw();
  std::size_t ok = 0;
  const TuneOptions options = exhaustive_options([&](const Evaluation& e) {
    // int halves truncate (in / 2), float and double do not: compared across types every non-float
    // configuration would be wrong; compared within its type, each is right.
    EXPECT_TRUE(measured_correct(e.measurement.status)) << spec.space.format(e.measurement.config) << ": " << e.measurement.message;
    ++ok;
  });
  auto outcome = engine_->tune(spec, {{"N", (1 << 20) + 7}}, options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(ok, 9u);
  // A configuration measured on its own sets up its types' buffers too.
  auto measured = engine_->measure(spec, {{"N", 4096}}, spec.space.parse("T=int B=128").value_or_throw(), {});
  ASSERT_TRUE(measured.ok()) << measured.error().message;
  EXPECT_EQ(measured->measurement.status, MeasurementStatus::ok) << measured->measurement.message;
}

}  // namespace
