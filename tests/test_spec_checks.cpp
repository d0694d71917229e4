// Spec checks for kernels as people write them (issue #16 item 5): Kernel Tuner's field names
// answered with ktune's, `verify: false` without an output, integer scalars range-checked instead
// of wrapped, template instances as entries (and their keys).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"

namespace {

using namespace ktune;
using json = nlohmann::json;

json base_spec() {
  return json::parse(R"js({"ktune_spec": 1, "name": "t", "entry": "k",
    "source": {"code": "__global__ void k(float* x, int n) { if (threadIdx.x < n) x[threadIdx.x] = B; }"},
    "sizes": ["N"], "params": {"B": [32, 64]}, "default": {"B": 32},
    "launch": {"grid": ["ceil_div(N, B)"], "block": ["B"]},
    "args": [{"name": "x", "type": "float*", "count": "N", "output": true}, {"name": "n", "type": "int", "value": "N"}]})js");
}

std::string error_of(const json& spec) {
  auto parsed = KernelSpec::from_json_text(spec.dump());
  return parsed ? std::string("(parsed)") : parsed.error().message;
}

struct Hint {
  const char* field;
  const char* says;  // the ktune field the message must name
};

TEST(SpecChecks, KernelTunerFieldNamesAreAnsweredWithTheKtuneField) {
  const Hint hints[] = {
      {"tune_params", "use \"params\""},          {"restrictions", "use \"constraints\""},
      {"grid_div_x", "\"launch.grid\""},          {"grid_div_y", "\"launch.grid\""},
      {"grid_div_z", "\"launch.grid\""},          {"problem_size", "use \"sizes\""},
      {"cmem_args", "__constant__"},               {"answer", "use \"verify\""},
      {"block_size_names", "\"launch.block\""},   {"atol", "\"verify\": {\"atol\""},
      {"compiler_options", "\"compile\": {\"options\""}, {"iterations", "ktune tune --help"},
      {"arguments", "use \"args\""},              {"kernel_name", "use \"entry\""},
      {"smem_args", "\"launch.shared_memory\""},  {"lang", "NVRTC"},
  };
  for (const auto& hint : hints) {
    json spec = base_spec();
    spec[hint.field] = 1;
    const std::string message = error_of(spec);
    EXPECT_NE(message.find(std::string(hint.field) + ": unknown field: \"" + hint.field + "\" is Kernel Tuner's; "), std::string::npos)
        << message;
    EXPECT_NE(message.find(hint.says), std::string::npos) << hint.field << ": " << message;
  }
}

TEST(SpecChecks, KernelTunerNamesInsideVerifyAreAnsweredToo) {
  json spec = base_spec();
  spec["verify"] = {{"answer", json::array()}};
  EXPECT_NE(error_of(spec).find("verify.answer: unknown field: \"answer\" is Kernel Tuner's"), std::string::npos) << error_of(spec);
}

TEST(SpecChecks, TyposStillGetDidYouMean) {
  json spec = base_spec();
  spec["paramz"] = json::object();
  EXPECT_NE(error_of(spec).find("paramz: unknown field (did you mean \"params\"?)"), std::string::npos);
}

TEST(SpecChecks, WithoutVerificationNoOutputIsNeeded) {
  json spec = base_spec();
  spec["args"][0].erase("output");
  EXPECT_NE(error_of(spec).find("no buffer is marked \"output\": true"), std::string::npos) << error_of(spec);
  spec["verify"] = false;
  auto parsed = KernelSpec::from_json_text(spec.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_FALSE(parsed->verify.enabled);
}

TEST(SpecChecks, AConstantScalarOutsideItsTypeIsRefusedAtLoad) {
  json spec = base_spec();
  spec["args"][1]["value"] = 5000000000LL;
  EXPECT_NE(error_of(spec).find("args.n.value: 5000000000 is outside int32 (-2147483648..2147483647)"), std::string::npos)
      << error_of(spec);
  spec["args"][1] = {{"name", "n"}, {"type", "uint8"}, {"value", -1}};
  EXPECT_NE(error_of(spec).find("args.n.value: -1 is outside uint8 (0..255)"), std::string::npos) << error_of(spec);
}

TEST(SpecChecks, AScalarOverSizesIsRangeCheckedWhenTheSizesAreKnown) {
  const KernelSpec spec = KernelSpec::from_json_text(base_spec().dump()).value_or_throw();
  auto fits = plan_launch(spec, spec.default_config, {{"N", 2147483647}});
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  EXPECT_EQ(fits->scalars[0].integer, 2147483647);
  auto wraps = plan_launch(spec, spec.default_config, {{"N", 5000000000LL}});
  ASSERT_FALSE(wraps.ok());
  EXPECT_NE(wraps.error().message.find("args.n.value \"N\" is 5000000000, outside int32 (-2147483648..2147483647)"), std::string::npos)
      << wraps.error().message;
}

TEST(SpecChecks, AScalarOverSizesOnlyIsTheProblemsMistake) {
  // Said once when the problem is set up (every tuning, verified or not), not per configuration.
  const KernelSpec spec = KernelSpec::from_json_text(base_spec().dump()).value_or_throw();
  EXPECT_TRUE(make_problem(spec, {{"N", 1000}}).ok());
  auto problem = make_problem(spec, {{"N", 5000000000LL}});
  ASSERT_FALSE(problem.ok());
  EXPECT_NE(problem.error().message.find("args.n.value \"N\" is 5000000000, outside int32"), std::string::npos)
      << problem.error().message;
}

TEST(SpecChecks, Int64AndUnsignedScalarsTakeTheirOwnRanges) {
  json spec = base_spec();
  spec["args"][1] = {{"name", "n"}, {"type", "int64"}, {"value", "N"}};
  const KernelSpec wide = KernelSpec::from_json_text(spec.dump()).value_or_throw();
  EXPECT_TRUE(plan_launch(wide, wide.default_config, {{"N", 5000000000LL}}).ok());
  spec["args"][1] = {{"name", "n"}, {"type", "uint32"}, {"value", "N"}};
  const KernelSpec unsigned32 = KernelSpec::from_json_text(spec.dump()).value_or_throw();
  EXPECT_TRUE(plan_launch(unsigned32, unsigned32.default_config, {{"N", 4294967295LL}}).ok());
  EXPECT_FALSE(plan_launch(unsigned32, unsigned32.default_config, {{"N", 4294967296LL}}).ok());
}

TEST(SpecChecks, ATemplateInstanceIsAnEntry) {
  json spec = base_spec();
  spec["source"]["code"] = "template <typename T> __global__ void k(T* x, int n) {}";
  for (const char* entry : {"k<float>", "k<unsigned int>", "k<float, 4>"}) {
    spec["entry"] = entry;
    auto parsed = KernelSpec::from_json_text(spec.dump());
    ASSERT_TRUE(parsed.ok()) << entry << ": " << parsed.error().message;
    EXPECT_EQ(parsed->entry_name(), "k");
    EXPECT_EQ(parsed->name_expression_for(parsed->default_config), entry);
  }
  for (const char* entry : {"k<float", "k<float>>", "k<float>; int x", "<float>", "k<\"x\">", "k<a>b"}) {
    spec["entry"] = entry;
    EXPECT_NE(error_of(spec).find("entry: \""), std::string::npos) << entry << ": " << error_of(spec);
  }
}

TEST(SpecChecks, TemplateInstancesOfOneSourceAreDifferentKernels) {
  json spec = base_spec();
  spec["source"]["code"] = "template <typename T> __global__ void k(T* x, int n) {}";
  spec["entry"] = "k<float>";
  const auto f = kernel_key(KernelSpec::from_json_text(spec.dump()).value_or_throw());
  spec["entry"] = "k<double>";
  const auto d = kernel_key(KernelSpec::from_json_text(spec.dump()).value_or_throw());
  EXPECT_NE(f.hex(), d.hex());
  // A plain entry's key does not carry the new field: stored entries keep their keys.
  const std::string form = kernel_canonical_form(KernelSpec::from_json_text(base_spec().dump()).value_or_throw());
  EXPECT_EQ(form.find("entry_template_args"), std::string::npos);
}

}  // namespace
