// Named-choice parameters ("float_type": ["float", "double"]) and sizes passed to the preprocessor
// (docs/spec.md, docs/ARCHITECTURE.md "Named choices"): parsing, constraints by name, template
// arguments and defines compiled by the real NVRTC, keys, the Kernel Tuner import and the exports.
// No GPU.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "engine/kernel_tuner_import.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/kernel_form.hpp"
#include "engine/model/key.hpp"
#include "engine/model/tuning_question.hpp"
#include "engine/results_export.hpp"
#include "engine/version.hpp"
#include "helpers/run_ktune.hpp"
#include "helpers/scratch_dir.hpp"
#include "helpers/spec_from_text.hpp"
#include "tuner/search_space.hpp"
#include "workers/kernel_signature.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace {

using namespace ktune;
using json = nlohmann::json;

const std::string kTemplated = R"(
template <typename T>
__global__ void vector_add(T* c, const T* a, const T* b, int n) {
  int i = blockIdx.x * B + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}
)";

const std::string kDefined = R"(
__global__ void vector_add(float_type* c, const float_type* a, const float_type* b, int n) {
  int i = blockIdx.x * B + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}
)";

// A spec around `code` with the float_type choices and `extra` fields (a JSON object body).
std::string spec_text(const std::string& code, const std::string& entry, const std::string& extra,
                      const std::string& choices = R"(["float", "double"])") {
  return R"({"ktune_spec": 1, "name": "t", "entry": ")" + entry + R"(", "source": )" + json{{"code", code}}.dump() +
         R"js(, "sizes": ["N"], "params": {"float_type": )js" + choices + R"js(, "B": [32, 64]},
    "default": {"float_type": "float", "B": 32},
    "launch": {"grid": ["ceil_div(N, B)"], "block": ["B"]},
    "args": [{"name": "c", "type": "float*", "count": "N", "output": true},
             {"name": "a", "type": "const float*", "count": "N", "init": "random"},
             {"name": "b", "type": "const float*", "count": "N", "init": "random"},
             {"name": "n", "type": "int", "value": "N"}])js" +
         extra + "}";
}

KernelSpec parse(const std::string& text) { return ktune::testing::parse_spec(text); }
std::string error_of(const std::string& text) { return ktune::testing::spec_error(text); }

Config config_of(const KernelSpec& spec, const std::string& text) { return spec.space.parse(text).value_or_throw(); }

TEST(NamedChoices, AreParsedAsCodesThatDependOnlyOnTheString) {
  const KernelSpec spec = parse(spec_text(kDefined, "vector_add", ""));
  const Parameter& p = spec.space.params[0];
  ASSERT_TRUE(p.is_choice());
  ASSERT_EQ(p.values.size(), 2u);
  EXPECT_EQ(*p.choice_of(choice_code("float")), "float");
  EXPECT_EQ(*p.choice_of(choice_code("double")), "double");
  EXPECT_EQ(spec.default_config, (Config{{"float_type", choice_code("float")}, {"B", 32}}));
  EXPECT_EQ(spec.space.format(spec.default_config), "float_type=float B=32");
  // Another list (longer, other order): the same string has the same value, so nothing stored moves.
  const KernelSpec wider = parse(spec_text(kDefined, "vector_add", "", R"(["half", "double", "float"])"));
  EXPECT_EQ(wider.space.params[0].value_from_text("double").value_or_throw(), choice_code("double"));
  EXPECT_EQ(config_of(wider, "float_type=double B=64"), (Config{{"float_type", choice_code("double")}, {"B", 64}}));
  // The strings are distinct from every small integer a parameter usually holds.
  EXPECT_GE(choice_code("float"), std::int64_t{1} << 62);
}

TEST(NamedChoices, BadListsAndValuesAreNamed) {
  EXPECT_NE(error_of(spec_text(kDefined, "vector_add", "", R"(["float", 2])")).find("params.float_type[1]: must be a string"),
            std::string::npos);
  EXPECT_NE(error_of(spec_text(kDefined, "vector_add", "", R"(["float", "float"])")).find("lists the choice \"float\" twice"),
            std::string::npos);
  EXPECT_NE(error_of(spec_text(kDefined, "vector_add", "", R"(["float", "a\"b"])")).find("params.float_type[1]"),
            std::string::npos);
  const std::string bad_default = error_of(spec_text(kDefined, "vector_add", "", R"(["half", "double"])"));
  EXPECT_NE(bad_default.find("default.float_type"), std::string::npos) << bad_default;
  EXPECT_NE(bad_default.find("half, double"), std::string::npos) << bad_default;
  const KernelSpec spec = parse(spec_text(kDefined, "vector_add", ""));
  auto unknown = spec.space.parse("float_type=int8 B=32");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("\"int8\" is not one of float_type's choices (float, double)"), std::string::npos)
      << unknown.error().message;
}

TEST(NamedChoices, ConstraintsCompareChoicesByName) {
  const KernelSpec spec = parse(spec_text(kDefined, "vector_add",
                                          R"(, "constraints": ["float_type == 'float' || B == 64", "\"double\" != float_type || N >= B"])"));
  const Sizes sizes{{"N", 1000}};
  auto space = SearchSpace::build(spec.space, &sizes).value_or_throw();
  EXPECT_EQ(space.valid_count(), 3u);  // double with B=32 is out
  EXPECT_FALSE(space.why_invalid(config_of(spec, "float_type=double B=64")));
  EXPECT_TRUE(space.why_invalid(config_of(spec, "float_type=double B=32")));
  EXPECT_EQ(why_invalid_at(spec.space, config_of(spec, "float_type=double B=32"), sizes),
            "constraint \"float_type == 'float' || B == 64\" is false");
}

TEST(NamedChoices, AStringThatIsNoChoiceInAConstraintIsAClearError) {
  const std::string unknown = error_of(spec_text(kDefined, "vector_add", R"(, "constraints": ["float_type == 'flaot'"])"));
  EXPECT_NE(unknown.find("constraints[0]"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("'flaot' is not one of float_type's choices (float, double)"), std::string::npos) << unknown;
  const std::string integer = error_of(spec_text(kDefined, "vector_add", R"(, "constraints": ["B == 'float'"])"));
  EXPECT_NE(integer.find("compared with B, whose values are integers"), std::string::npos) << integer;
  const std::string size = error_of(spec_text(kDefined, "vector_add", R"(, "constraints": ["N != 'float'"])"));
  EXPECT_NE(size.find("compared with a size"), std::string::npos) << size;
  const std::string arithmetic = error_of(spec_text(kDefined, "vector_add", R"(, "constraints": ["'float' + 1 == B"])"));
  EXPECT_NE(arithmetic.find("only compared (== or !=) with a named-choice parameter"), std::string::npos) << arithmetic;
  const std::string open = error_of(spec_text(kDefined, "vector_add", R"(, "constraints": ["float_type == 'float"])"));
  EXPECT_NE(open.find("unterminated string literal"), std::string::npos) << open;
}

TEST(NamedChoices, ATemplatedKernelCompilesForEachChoiceWithTheRealNvrtc) {
  const KernelSpec spec = parse(spec_text(kTemplated, "vector_add", R"(, "pass_params": "template", "template_args": ["float_type"])"));
  for (const auto& [choice, mangled] : {std::pair{"float", "_Z10vector_addIfE"}, std::pair{"double", "_Z10vector_addIdE"}}) {
    const Config config = config_of(spec, std::string("float_type=") + choice + " B=64");
    const auto job = make_compile_job(spec, config, "sm_90");
    ASSERT_EQ(job.name_expressions, std::vector<std::string>{std::string("vector_add<") + choice + ">"});
    EXPECT_EQ(job.defines, std::vector<std::string>{"-DB=64"});
    const auto result = workers::compile_with_nvrtc(job);
    ASSERT_TRUE(result.ok()) << result.log;
    ASSERT_EQ(result.lowered_names.size(), 1u);
    EXPECT_EQ(result.lowered_names.front().rfind(mangled, 0), 0u) << result.lowered_names.front();
  }
}

TEST(NamedChoices, ADefineTakesTheChoiceAndTheCubinKeyFollowsIt) {
  const KernelSpec spec = parse(spec_text(kDefined, "vector_add", ""));
  const auto as_float = make_compile_job(spec, config_of(spec, "float_type=float B=32"), "sm_90");
  const auto as_double = make_compile_job(spec, config_of(spec, "float_type=double B=32"), "sm_90");
  EXPECT_EQ(as_double.defines, (std::vector<std::string>{"-Dfloat_type=double", "-DB=32"}));
  EXPECT_NE(cubin_key(as_float, "13.0"), cubin_key(as_double, "13.0"));
  for (const auto* job : {&as_float, &as_double}) {
    const auto result = workers::compile_with_nvrtc(*job);
    ASSERT_TRUE(result.ok()) << result.log;
    EXPECT_FALSE(result.cubin.empty());
  }
  // The double build really is another kernel: its parameters are doubles.
  auto signature = workers::read_kernel_signature(as_double);
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_EQ(signature->params[0].cpp_type, "double*");
}

TEST(NamedChoices, TheKernelKeyHoldsTheStringsAndTheFormRestoresThem) {
  const KernelSpec spec = parse(spec_text(kDefined, "vector_add", ""));
  const json form = json::parse(kernel_canonical_form(spec));
  // Listed in value order (the order of their codes), like every parameter's values.
  EXPECT_EQ(form["params"][0]["choices"], json::array({"float", "double"}));
  auto space = space_from_kernel_form(kernel_canonical_form(spec));
  ASSERT_TRUE(space.ok()) << space.error().message;
  EXPECT_EQ(space->format(spec.default_config), "float_type=float B=32");
  // Another list is another space (another kernel key); the values of its choices stay.
  const KernelSpec wider = parse(spec_text(kDefined, "vector_add", "", R"(["half", "float", "double"])"));
  EXPECT_NE(kernel_key(spec), kernel_key(wider));
  EXPECT_EQ(wider.default_config, spec.default_config);
}

TEST(NamedChoices, AChoiceWithASpaceSurvivesTheKernelForm) {
  const KernelSpec spec = parse(spec_text(kDefined, "vector_add", R"(, "constraints": ["float_type != \"unsigned int\" || B == 64"])",
                                          R"(["float", "unsigned int"])"));
  const json form = json::parse(kernel_canonical_form(spec));
  EXPECT_EQ(form["constraints"][0], "float_type!='unsigned int'||B==64");
  auto space = space_from_kernel_form(kernel_canonical_form(spec));
  ASSERT_TRUE(space.ok()) << space.error().message;
  const Config config = spec.space.parse("float_type=float,B=32").value_or_throw();
  EXPECT_FALSE(why_invalid_at(*space, config, {{"N", 64}}));
  const KernelSpec single = parse(spec_text(kDefined, "vector_add", R"(, "constraints": ["float_type != 'unsigned int' || B == 64"])",
                                            R"(["float", "unsigned int"])"));
  EXPECT_EQ(kernel_key(spec), kernel_key(single));  // the quotes a constraint is written with do not matter
  EXPECT_EQ(make_compile_job(spec, {{"float_type", choice_code("unsigned int")}, {"B", 64}}, "sm_90").defines.front(),
            "-Dfloat_type=unsigned int");
}

TEST(SizesToPreprocessor, SizesBecomeDefinesAndJoinTheCubinKey) {
  const std::string code = R"(
__global__ void fill(float* c) { int i = blockIdx.x * B + threadIdx.x; if (i < N) c[i] = float_type(N); }
)";
  std::string text = spec_text(code, "fill", "");
  text = text.substr(0, text.find("\"args\"")) +
         R"("args": [{"name": "c", "type": "float*", "count": "N", "output": true}], "sizes_to_preprocessor": true})";
  const KernelSpec spec = parse(text);
  ASSERT_TRUE(spec.sizes_to_preprocessor);
  const Sizes small{{"N", 1024}}, large{{"N", 2048}};
  const auto at_small = instantiate(spec, spec.default_config, small, "sm_90").value_or_throw();
  const auto at_large = instantiate(spec, spec.default_config, large, "sm_90").value_or_throw();
  EXPECT_EQ(at_small.compile.defines, (std::vector<std::string>{"-Dfloat_type=float", "-DB=32", "-DN=1024"}));
  EXPECT_NE(cubin_key(at_small.compile, "13.0"), cubin_key(at_large.compile, "13.0"));
  const auto compiled = workers::compile_with_nvrtc(at_small.compile);
  EXPECT_TRUE(compiled.ok()) << compiled.log;
  // Without the flag one binary serves every size, and the kernel key differs.
  std::string plain_text = text;
  plain_text.replace(plain_text.find(R"(, "sizes_to_preprocessor": true)"), std::string(R"(, "sizes_to_preprocessor": true)").size(), "");
  const KernelSpec plain = parse(plain_text);
  EXPECT_EQ(cubin_key(instantiate(plain, plain.default_config, small, "sm_90").value_or_throw().compile, "13.0"),
            cubin_key(instantiate(plain, plain.default_config, large, "sm_90").value_or_throw().compile, "13.0"));
  EXPECT_NE(kernel_key(spec), kernel_key(plain));
  std::string not_bool = text;
  not_bool.replace(not_bool.find(R"("sizes_to_preprocessor": true)"), std::string(R"("sizes_to_preprocessor": true)").size(),
                   R"("sizes_to_preprocessor": 1)");
  EXPECT_NE(error_of(not_bool).find("sizes_to_preprocessor: must be true or false"), std::string::npos) << error_of(not_bool);
}

// A Kernel Tuner cache with a string-valued tune_param, imported into a real store and exported back.
const std::string kStringCache = R"({"device_name": "NVIDIA RTX A6000", "kernel_name": "vector_add", "problem_size": [4096],
  "tune_params_keys": ["float_type", "B"], "tune_params": {"float_type": ["float", "double"], "B": [32, 64]}, "objective": "time",
  "cache": {
  "float,32": {"float_type": "float", "B": 32, "time": 1.5, "timestamp": "2023-12-22 09:53:48+00:00"},
  "float,64": {"float_type": "float", "B": 64, "time": 1.25, "timestamp": "2023-12-22 09:53:49+00:00"},
  "double,64": {"float_type": "double", "B": 64, "time": 2.5, "timestamp": "2023-12-22 09:53:50+00:00"}}})";

TEST(NamedChoices, AKernelTunerStringParameterImportsAndExportsAsItsString) {
  ktune::testing::ScratchDir scratch{"ktune-named-choices"};
  const KernelSpec spec = parse(spec_text(kDefined, "vector_add", ""));
  const auto cache_path = scratch.path / "cache.json";
  std::ofstream(cache_path) << kStringCache;
  KernelTunerImportOptions options;
  options.arch = "sm_86";
  auto store = store::Store::open(scratch.path / "ktune.db").value_or_throw();
  auto summary = import_kernel_tuner_cache(cache_path, spec, store, options).value_or_throw();
  EXPECT_EQ(summary.entries, 3u);
  TuningQuestion question{&spec, summary.sizes, summary.device, summary.toolchain};
  auto measurements = store.measurements_for(summary.tuning_key).value_or_throw();
  ASSERT_EQ(measurements.size(), 3u);
  const store::Measurement* best = nullptr;
  for (const auto& m : measurements)
    if (!best || m.timing->median_ns < best->timing->median_ns) best = &m;
  EXPECT_EQ(spec.space.format(best->config), "float_type=float B=64");
  store::BestRecord record{question.tuning_record(), best->config, best->timing->median_ns, std::nullopt, "exhaustive",
                           3, 1.0, 1700000000, version_string()};
  ASSERT_TRUE(store.put_best(record).ok());
  const TuningResults tuning{question.kernel_record(), record, measurements};

  const json kt = json::parse(to_kernel_tuner_cache(tuning).value_or_throw());
  EXPECT_EQ(kt["tune_params"]["float_type"], json::array({"float", "double"}));
  ASSERT_TRUE(kt["cache"].contains("double,64")) << kt["cache"].dump();
  EXPECT_EQ(kt["cache"]["double,64"]["float_type"], "double");
  const json t4 = json::parse(to_t4_results(tuning).value_or_throw());
  std::set<std::string> t4_choices;
  for (const auto& r : t4["results"]) t4_choices.insert(r["configuration"]["float_type"].get<std::string>());
  EXPECT_EQ(t4_choices, (std::set<std::string>{"float", "double"}));
  const std::string wisdom = to_wisdom("vector_add", {tuning}).value_or_throw();
  EXPECT_NE(wisdom.find(R"("config":["float",64])"), std::string::npos) << wisdom;

  // A number where the spec has choices, and an unknown string, are refused with the entry named.
  std::string numeric = kStringCache;
  const std::string double_entry = R"("float_type": "double", "B": 64)";
  numeric.replace(numeric.find(double_entry), double_entry.size(), R"("float_type": 7, "B": 64)");
  std::ofstream(cache_path) << numeric;
  auto refused = import_kernel_tuner_cache(cache_path, spec, store, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("entry 'double,64': float_type=7 is not a string"), std::string::npos)
      << refused.error().message;
}

TEST(NamedChoices, AStringValuedCacheAgainstAnIntegerSpecSaysToDeclareChoices) {
  const std::string spec_json = R"({"ktune_spec": 1, "name": "t", "entry": "k", "source": {"code": "__global__ void k(float* c) {}"},
    "sizes": ["N"], "params": {"float_type": [0, 1], "B": [32, 64]}, "default": {"float_type": 0, "B": 32},
    "launch": {"grid": [1], "block": ["B"]}, "args": [{"name": "c", "type": "float*", "count": "N", "output": true}]})";
  const KernelSpec spec = parse(spec_json);
  auto parsed = parse_kernel_tuner_cache(kStringCache, spec, {}, "cache.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("declare float_type with string values in the spec (named choices)"), std::string::npos)
      << parsed.error().message;
}

TEST(NamedChoices, TheCliPrintsAndReadsTheStrings) {
  const std::string spec = std::string(KTUNE_SOURCE_DIR) + "/examples/scaled_add.json";
  const auto text = ktune::testing::run_ktune("space " + spec + " --size N=4096 --samples 40 --no-check");
  ASSERT_EQ(text.status, 0) << text.output;
  EXPECT_NE(text.output.find("compute_type: float double"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("default      compute_type=float BLOCK=256 ITEMS=1"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("compute_type=double"), std::string::npos) << text.output;
  const auto as_json = ktune::testing::run_ktune("space " + spec + " --json --samples 40 --no-check");
  ASSERT_EQ(as_json.status, 0) << as_json.output;
  std::set<std::string> seen;
  const json parsed = json::parse(as_json.output);  // kept: a range over a temporary's member would dangle
  for (const auto& sample : parsed["samples"]) seen.insert(sample["compute_type"].get<std::string>());
  EXPECT_EQ(seen, (std::set<std::string>{"float", "double"}));
  // --config takes a choice by its string, and an unknown one is named (checked before any GPU work).
  const auto bad = ktune::testing::run_ktune("bench " + spec + " --size N=4096 --config compute_type=half");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("--config: \"half\" is not one of compute_type's choices (float, double)"), std::string::npos) << bad.output;
}

}  // namespace
