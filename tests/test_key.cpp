// Keys: what changes them and what must not. The golden values pin the canonical forms: if one of
// them changes, bump kKeyFormatVersion (every stored key becomes a miss) and update docs/keys.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/model/key.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/measurement_identity.hpp"

namespace {

using ktune::canonical_source;

const std::filesystem::path kSpecs = std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/specs";

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The valid test spec with its source inline, edited by `edit`.
ktune::KernelSpec spec_with(const std::function<void(nlohmann::ordered_json&)>& edit) {
  auto json = nlohmann::ordered_json::parse(read(kSpecs / "valid_scale.json"));
  json["source"] = {{"code", read(kSpecs / "valid_base.cu")}};
  edit(json);
  return ktune::KernelSpec::from_json_text(json.dump(), kSpecs).value_or_throw();
}

const ktune::DeviceSignature kH100{"NVIDIA H100 80GB HBM3", "sm_90"};
const ktune::Toolchain kNvrtc13{"13.0"};

TEST(CanonicalSource, DropsCommentsAndWhitespaceButNotMeaning) {
  EXPECT_EQ(canonical_source("int  a =  b + c; // sum\n/* block\ncomment */ int d;", "k"), "int a=b+c;int d;");
  EXPECT_EQ(canonical_source("x = a - -b;", "k"), "x=a- -b;");   // "a--b" would tokenise differently
  EXPECT_EQ(canonical_source("x = a+ +b;", "k"), "x=a+ +b;");
  EXPECT_EQ(canonical_source("y = 1. f;", "k"), "y=1.f;");
  EXPECT_EQ(canonical_source("s = \"a  //  b\";  c = '/';", "k"), "s=\"a  //  b\";c='/';");
  EXPECT_EQ(canonical_source("s = \"q\\\"  x\";", "k"), "s=\"q\\\"  x\";");
}

TEST(CanonicalSource, KeepsPreprocessorLinesApart) {
  EXPECT_EQ(canonical_source("#define  TILE 32\n#include <x.h>\nint a;\n  #  if X\nint b;\n#endif\n", "k"),
            "#define TILE 32\n#include <x.h>\nint a;\n# if X\nint b;\n#endif");
  EXPECT_EQ(canonical_source("#define F(x) \\\n  ((x) + 1)\nint a;", "k"), "#define F(x) ((x) + 1)\nint a;");
}

TEST(CanonicalSource, ReplacesTheEntryNameOnly) {
  EXPECT_EQ(canonical_source("__global__ void triton_mm_17(int* mm_17x) { triton_mm_17_helper(); }", "triton_mm_17"),
            "__global__ void __ktune_entry__(int*mm_17x){triton_mm_17_helper();}");
}

TEST(KernelKey, IgnoresFormattingCommentsNamesAndDefaults) {
  const auto base = ktune::kernel_key(spec_with([](auto&) {}));
  EXPECT_EQ(base, ktune::kernel_key(spec_with([](auto& j) {
              std::string code = j["source"]["code"];
              j["source"]["code"] = "// reformatted\n" + code + "\n\n/* trailing */\n";
            })));
  EXPECT_EQ(base, ktune::kernel_key(spec_with([](auto& j) {
              std::string code = j["source"]["code"];
              std::string::size_type at;
              while ((at = code.find("scale(")) != std::string::npos) code.replace(at, 6, "scale_v2_generated(");
              j["source"]["code"] = code;
              j["entry"] = "scale_v2_generated";
            })));
  EXPECT_EQ(base, ktune::kernel_key(spec_with([](auto& j) {
              j["name"] = "renamed";
              j["description"] = "a description";
              j["default"] = {{"TB", 256}, {"ITEMS", 2}};
              j["verify"]["rtol"] = 0.5;
            })));
}

TEST(KernelKey, ChangesWithAnythingThatChangesTheKernel) {
  const auto base = ktune::kernel_key(spec_with([](auto&) {}));
  auto changed = [&](const std::function<void(nlohmann::ordered_json&)>& edit) {
    return ktune::kernel_key(spec_with(edit)) != base;
  };
  EXPECT_TRUE(changed([](auto& j) {
    std::string code = j["source"]["code"];
    code.replace(code.find("= a * x["), 8, "= a + x[");
    j["source"]["code"] = code;
  }));
  EXPECT_TRUE(changed([](auto& j) { j["compile"] = {{"options", {"--use_fast_math"}}}; }));
  EXPECT_TRUE(changed([](auto& j) { j["params"]["TB"] = {64, 128, 256}; }));
  EXPECT_TRUE(changed([](auto& j) { j["constraints"] = {"TB * ITEMS <= 512"}; }));
  EXPECT_TRUE(changed([](auto& j) { j["launch"]["block"] = {"TB", 1, 1}; }) == false);  // [TB] == [TB,1,1]
  EXPECT_TRUE(changed([](auto& j) { j["launch"]["grid"] = {"ceil_div(n, TB)"}; }));
  EXPECT_TRUE(changed([](auto& j) { j["args"][2]["type"] = "double"; }));
}

// A winner tuned with verification off, or on other input data (seed), must not answer a
// request with verification on or on the spec's data (issue #14, "Stale"); the defaults leave the
// key as it was, so stored entries keep being found (KeyGolden pins that).
TEST(KernelKey, VerificationOffAndAnotherSeedAreAnotherQuestion) {
  const auto base = ktune::kernel_key(spec_with([](auto&) {}));
  const auto unverified = ktune::kernel_key(spec_with([](auto& j) { j["verify"] = false; }));
  EXPECT_NE(unverified, base);
  EXPECT_NE(ktune::kernel_key(spec_with([](auto& j) { j["seed"] = 7; })), base);
  EXPECT_NE(ktune::kernel_key(spec_with([](auto& j) { j["seed"] = 7; })),
            ktune::kernel_key(spec_with([](auto& j) { j["seed"] = 8; })));
  EXPECT_EQ(ktune::kernel_key(spec_with([](auto& j) { j["seed"] = 0x6b74756e65ULL; })), base);  // the default
  EXPECT_EQ(ktune::kernel_key(spec_with([](auto& j) { j["verify"]["atol"] = 0.5; })), base);    // tolerances: not
}

TEST(TuningKey, DependsOnSizesDeviceAndToolchainNotOnTheirOrder) {
  const auto spec = spec_with([](auto&) {});
  const auto key = ktune::tuning_key(spec, {{"n", 1 << 20}}, kH100, kNvrtc13);
  EXPECT_NE(key, ktune::tuning_key(spec, {{"n", 1 << 21}}, kH100, kNvrtc13));
  EXPECT_NE(key, ktune::tuning_key(spec, {{"n", 1 << 20}}, {"NVIDIA H200", "sm_90"}, kNvrtc13));
  EXPECT_NE(key, ktune::tuning_key(spec, {{"n", 1 << 20}}, kH100, {"13.1"}));
  EXPECT_NE(key, ktune::kernel_key(spec));
}

TEST(TuningKey, SizeOrderDoesNotMatter) {
  auto spec = ktune::KernelSpec::from_file(std::filesystem::path(KTUNE_SOURCE_DIR) / "examples/sgemm.json").value_or_throw();
  EXPECT_EQ(ktune::tuning_key(spec, {{"M", 1}, {"N", 2}, {"K", 3}}, kH100, kNvrtc13),
            ktune::tuning_key(spec, {{"K", 3}, {"M", 1}, {"N", 2}}, kH100, kNvrtc13));
}

const char* const KERNEL_FORM_GOLDEN =
    "{\"arch_specific\":false,\"args\":[{\"buffer\":true,\"count\":\"n\",\"type\":\"float\"},{\"buffer\":true,\"count\":\"n\",\"type\":\"float\"},{\"buffer\":false,\"type\":\"float\",\"value\":2.5},{\"buffer\":false,\"type\":\"int32\",\"value\":\"n\"}],\"constraints\":[\"TB*ITEMS<=1024\"],\"form\":\"ktune-kernel\",\"launch\":{\"block\":[\"TB\",\"1\",\"1\"],\"grid\":[\"ceil_div(n,TB*ITEMS)\",\"1\",\"1\"],\"shared_memory\":\"0\"},\"options\":[],\"params\":[{\"name\":\"TB\",\"values\":[64,128,256,512]},{\"name\":\"ITEMS\",\"values\":[1,2,4]}],\"passing\":\"defines\",\"sizes\":[\"n\"],\"source\":\"extern\\\"C\\\"__global__ void __ktune_entry__(const float*x,float*y,float a,int n){int i=(blockIdx.x*TB+threadIdx.x)*ITEMS;for(int k=0;k<ITEMS;++k)if(i+k<n)y[i+k]=a*x[i+k];}\",\"template_args\":[],\"version\":1}";
const char* const KERNEL_KEY_GOLDEN = "fd4c9f3d33980340a86b76012387f97f";
const char* const TUNING_FORM_GOLDEN =
    "{\"device\":{\"arch\":\"sm_90\",\"name\":\"NVIDIA H100 80GB HBM3\"},\"form\":\"ktune-tuning\",\"kernel\":\"fd4c9f3d33980340a86b76012387f97f\",\"sizes\":[[\"n\",1048576]],\"toolchain\":{\"nvrtc\":\"13.0\"},\"version\":1}";
const char* const TUNING_KEY_GOLDEN = "5659f94736e0a607f67f5956385f47be";

const char* const MEASUREMENT_INPUTS_GOLDEN = R"({"init":[{"random":[-1.0,1.0]},"zeros"],"seed":461515353701})";
const char* const MEASUREMENT_FORM_HEAD_GOLDEN =
    R"g({"device":{"arch":"sm_90","name":"NVIDIA H100 80GB HBM3"},"form":"ktune-measurement","inputs":{"init":[{"random":[-1.0,1.0]},"zeros"],"seed":461515353701},"kernel":{"arch_specific":false,"args":[{"buffer":true,"count":"n","type":"float"},{"buffer":true,"count":"n","type":"float"},{"buffer":false,"type":"float","value":2.5},{"buffer":false,"type":"int32","value":"n"}],"form":"ktune-kernel","launch":{"block":["TB","1","1"],"grid":["ceil_div(n,TB*ITEMS)","1","1"],"shared_memory":"0"},"options":[],"param_names":["TB","ITEMS"],"passing":"defines","sizes":["n"],)g";
const char* const MEASUREMENT_FORM_TAIL_GOLDEN = R"("sizes":[["n",1048576]],"toolchain":"nvrtc 13.0","version":1})";
const char* const MEASUREMENT_KEY_GOLDEN = "9ade7627c8e743acef81cef6d052aebf";

// Golden: the canonical forms and keys of the test spec. A change here is a format change.
TEST(KeyGolden, CanonicalFormsArePinned) {
  const auto spec = spec_with([](auto&) {});
  EXPECT_EQ(ktune::kernel_canonical_form(spec), KERNEL_FORM_GOLDEN);
  EXPECT_EQ(ktune::kernel_key(spec).hex(), KERNEL_KEY_GOLDEN);
  EXPECT_EQ(ktune::tuning_canonical_form(spec, {{"n", 1048576}}, kH100, kNvrtc13), TUNING_FORM_GOLDEN);
  EXPECT_EQ(ktune::tuning_key(spec, {{"n", 1048576}}, kH100, kNvrtc13).hex(), TUNING_KEY_GOLDEN);
}

// Golden: the measurement form and key of the test spec (docs/keys.md "Measurement key"): the
// kernel form without its lists, constraints and verify switch, plus the inputs.
TEST(KeyGolden, MeasurementFormIsPinned) {
  const auto spec = spec_with([](auto&) {});
  const ktune::Sizes sizes{{"n", 1048576}};
  const std::string kernel_form = ktune::kernel_canonical_form(spec);
  const std::string inputs = ktune::measurement_inputs_form(spec);
  const auto form =
      ktune::store::measurement_canonical_form({kernel_form, inputs, &sizes, kH100.name, kH100.arch, "nvrtc 13.0"})
          .value_or_throw();
  EXPECT_EQ(inputs, MEASUREMENT_INPUTS_GOLDEN);
  EXPECT_EQ(form.substr(0, form.find("\"source\"")), MEASUREMENT_FORM_HEAD_GOLDEN);
  EXPECT_EQ(form.substr(form.find("\"sizes\":[[")), MEASUREMENT_FORM_TAIL_GOLDEN);
  const ktune::TuningQuestion question{&spec, sizes, kH100, kNvrtc13};
  EXPECT_EQ(question.measurement_key(), ktune::xxh3_128(form).hex());
  EXPECT_EQ(question.measurement_key(), MEASUREMENT_KEY_GOLDEN);
}

}  // namespace
