// The checks before any launch (engine/kernel_check.hpp, workers/kernel_signature.hpp): NVRTC
// resolves the entry (templates through name expressions) and the spec's args are compared with the
// kernel's parameter list. Real NVRTC, no GPU.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/kernel_check.hpp"
#include "engine/model/instantiate.hpp"
#include "workers/nvrtc_compiler.hpp"
#include "helpers/scratch_dir.hpp"

namespace {

using namespace ktune;

// A spec around `code` with `entry` and the given args (JSON array body).
KernelSpec spec_of(const std::string& code, const std::string& entry, const std::string& args,
                   const std::string& extra = "") {
  nlohmann::json source = {{"code", code}};
  const std::string text = R"({"ktune_spec": 1, "name": "t", "entry": ")" + entry + R"(", "source": )" + source.dump() +
                           R"js(, "sizes": ["N"], "params": {"B": [32, 64]}, "default": {"B": 32},
    "launch": {"grid": ["ceil_div(N, B)"], "block": ["B"]}, "args": [)js" + args + "]" + extra + "}";
  auto spec = KernelSpec::from_json_text(text);
  EXPECT_TRUE(spec.ok()) << (spec ? "" : spec.error().message);
  return std::move(spec).value_or_throw();
}

const std::string kVectorAdd = R"(
template <typename T>
__global__ void vector_add(T* c, const T* a, const T* b, int n) {
  int i = blockIdx.x * B + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}
)";
const std::string kVectorAddArgs = R"(
  {"name": "c", "type": "float*", "count": "N", "output": true},
  {"name": "a", "type": "const float*", "count": "N", "init": "random"},
  {"name": "b", "type": "const float*", "count": "N", "init": "random"},
  {"name": "n", "type": "int", "value": "N"})";

std::string message_of(const Result<workers::KernelSignature>& r) { return r ? std::string("(ok)") : r.error().message; }

TEST(KernelCheck, ATemplatedEntryResolvesThroughItsNameExpression) {
  const KernelSpec spec = spec_of(kVectorAdd, "vector_add<float>", kVectorAddArgs);
  auto signature = check_kernel_signature(spec, "sm_90");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_EQ(signature->name_expression, "vector_add<float>");
  EXPECT_EQ(signature->lowered_name.rfind("_Z10vector_addIfE", 0), 0u) << signature->lowered_name;
  ASSERT_EQ(signature->params.size(), 4u);
  EXPECT_EQ(signature->params[0].cpp_type, "float*");
  EXPECT_EQ(signature->params[1].cpp_type, "float const*");
  EXPECT_EQ(signature->params[3].cpp_type, "int");
  EXPECT_EQ(signature->params[3].bytes, 4u);
}

TEST(KernelCheck, ATemplatedEntryCompilesToACubinWithItsLoweredName) {
  // End to end through the real compile: the name expression of the job is the spec's entry.
  const KernelSpec spec = spec_of(kVectorAdd, "vector_add<float>", kVectorAddArgs);
  const auto job = make_compile_job(spec, spec.default_config, "sm_90");
  ASSERT_EQ(job.name_expressions, std::vector<std::string>{"vector_add<float>"});
  const auto result = workers::compile_with_nvrtc(job);
  ASSERT_TRUE(result.ok()) << result.log;
  EXPECT_FALSE(result.cubin.empty());
  ASSERT_EQ(result.lowered_names.size(), 1u);
  EXPECT_EQ(result.lowered_names.front().rfind("_Z10vector_addIfE", 0), 0u);
}

TEST(KernelCheck, ATemplateNamedWithoutItsArgumentsIsExplained) {
  const KernelSpec spec = spec_of(kVectorAdd, "vector_add", kVectorAddArgs);
  const std::string message = message_of(check_kernel_signature(spec, "sm_90"));
  EXPECT_NE(message.find("entry: \"vector_add\" is a function template"), std::string::npos) << message;
  EXPECT_NE(message.find("vector_add<float>"), std::string::npos) << message;
}

TEST(KernelCheck, TemplatePassingAppendsTunedArgumentsAfterFixedOnes) {
  const std::string code = R"(
template <typename T, int BLOCK>
__global__ void scale(T* x, int n) { int i = blockIdx.x * BLOCK + threadIdx.x; if (i < n) x[i] *= 2; }
)";
  const KernelSpec spec = spec_of(code, "scale<double>",
                                  R"({"name": "x", "type": "double*", "count": "N", "output": true},
                                     {"name": "n", "type": "int", "value": "N"})",
                                  R"(, "pass_params": "template")");
  EXPECT_EQ(spec.name_expression_for(spec.default_config), "scale<double, 32>");
  auto signature = check_kernel_signature(spec, "sm_90");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_NE(signature->demangled.find("scale<double, 32>"), std::string::npos) << signature->demangled;
}

TEST(KernelCheck, AnEntryThatOnlyAppearsInACommentIsRejectedAtLoad) {
  nlohmann::json source = {{"code", "// old_kernel was renamed\n__global__ void k(float* x) {}\n"}};
  auto spec = KernelSpec::from_json_text(R"({"ktune_spec": 1, "name": "t", "entry": "old_kernel", "source": )" + source.dump() +
                                         R"(, "params": {"B": [1]}, "default": {"B": 1}, "launch": {"grid": [1], "block": [1]},
    "args": [{"name": "x", "type": "float*", "count": 1, "output": true}]})");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message.find("entry: \"old_kernel\" does not appear in the kernel source's code"), std::string::npos)
      << spec.error().message;
}

// A wrapper that #includes upstream files unchanged (benchmark_hub's gemm_milo) has its entry in a
// header found through include_dirs: accepted at load, then resolved by NVRTC. A header that only
// names it in a comment is still refused.
Result<KernelSpec> wrapper_spec(const ktune::testing::ScratchDir& dir, const std::string& header_code) {
  std::filesystem::create_directories(dir / "parts");
  std::ofstream(dir / "parts" / "kernel_part.cuh") << header_code;
  std::ofstream(dir / "wrapper.cu") << "// joins the parts\n#include \"kernel_part.cuh\"\n";
  std::ofstream(dir / "spec.json") << R"({"ktune_spec": 1, "name": "t", "entry": "joined", "source": "wrapper.cu",
    "compile": {"include_dirs": ["parts"]}, "params": {"B": [1]}, "default": {"B": 1},
    "launch": {"grid": [1], "block": ["B"]}, "args": [{"name": "x", "type": "float*", "count": 1, "output": true}]})";
  return KernelSpec::from_file(dir / "spec.json");
}

TEST(KernelCheck, AnEntryDefinedInAnIncludedHeaderIsAcceptedAndResolved) {
  ktune::testing::ScratchDir dir;
  auto spec = wrapper_spec(dir, "__global__ void joined(float* x) { x[0] = 1.0f; }\n");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto signature = check_kernel_signature(*spec, "sm_90");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_NE(signature->demangled.find("joined"), std::string::npos) << signature->demangled;
}

TEST(KernelCheck, AnEntryOnlyInAnIncludedHeadersCommentIsRejectedAtLoad) {
  ktune::testing::ScratchDir dir;
  auto spec = wrapper_spec(dir, "// joined was renamed\n__global__ void other(float* x) {}\n");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message.find("entry: \"joined\" does not appear in the kernel source's code nor in the headers it includes"),
            std::string::npos)
      << spec.error().message;
}

TEST(KernelCheck, AnEntryThatOnlyAppearsInAStringIsRejectedAtLoad) {
  nlohmann::json source = {{"code", "__device__ const char* s = \"ghost\";\n__global__ void k(float* x) {}\n"}};
  auto spec = KernelSpec::from_json_text(R"({"ktune_spec": 1, "name": "t", "entry": "ghost", "source": )" + source.dump() +
                                         R"(, "params": {"B": [1]}, "default": {"B": 1}, "launch": {"grid": [1], "block": [1]},
    "args": [{"name": "x", "type": "float*", "count": 1, "output": true}]})");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message.find("does not appear"), std::string::npos) << spec.error().message;
}

TEST(KernelCheck, AnEntryThatIsNotAKernelIsRejectedByNvrtc) {
  // The name occurs in the code (a variable), so only NVRTC can tell it is no kernel.
  const KernelSpec spec =
      spec_of("__device__ int helper;\n__global__ void k(float* x) { x[0] = helper; }\n", "helper",
              R"({"name": "x", "type": "float*", "count": "N", "output": true})");
  const std::string message = message_of(check_kernel_signature(spec, "sm_90"));
  EXPECT_NE(message.find("entry:"), std::string::npos) << message;
}

TEST(KernelCheck, TooFewOrTooManyArgsAreNamed) {
  const KernelSpec spec = spec_of(kVectorAdd, "vector_add<float>", R"(
  {"name": "c", "type": "float*", "count": "N", "output": true},
  {"name": "a", "type": "const float*", "count": "N", "init": "random"},
  {"name": "n", "type": "int", "value": "N"})");
  const std::string message = message_of(check_kernel_signature(spec, "sm_90"));
  EXPECT_NE(message.find("args: the kernel void vector_add<float>(float*, float const*, float const*, int) takes 4 parameters, "
                         "the spec lists 3"),
            std::string::npos)
      << message;
}

TEST(KernelCheck, APointerWhereTheSpecHasAScalarIsNamed) {
  const KernelSpec spec = spec_of(kVectorAdd, "vector_add<float>", R"(
  {"name": "c", "type": "float*", "count": "N", "output": true},
  {"name": "a", "type": "const float*", "count": "N", "init": "random"},
  {"name": "b", "type": "int", "value": "N"},
  {"name": "n", "type": "int", "value": "N"})");
  const std::string message = message_of(check_kernel_signature(spec, "sm_90"));
  EXPECT_NE(message.find("args.b: the kernel's parameter 3 is \"float const*\", the spec says int32"), std::string::npos) << message;
}

TEST(KernelCheck, AScalarOfTheWrongWidthOrKindIsNamed) {
  const std::string code = "__global__ void k(float* x, long long n, float alpha) { x[0] = n * alpha; }\n";
  const std::string buffer = R"({"name": "x", "type": "float*", "count": "N", "output": true})";
  const std::string narrow = message_of(check_kernel_signature(
      spec_of(code, "k", buffer + R"(, {"name": "n", "type": "int", "value": "N"}, {"name": "alpha", "type": "float", "value": 2.0})"),
      "sm_90"));
  EXPECT_NE(narrow.find("args.n: the kernel's parameter 2 is \"long long\", the spec says int32"), std::string::npos) << narrow;
  const std::string kind = message_of(check_kernel_signature(
      spec_of(code, "k", buffer + R"(, {"name": "n", "type": "int64", "value": "N"}, {"name": "alpha", "type": "int32", "value": 2})"),
      "sm_90"));
  EXPECT_NE(kind.find("args.alpha: the kernel's parameter 3 is \"float\", the spec says int32"), std::string::npos) << kind;
  EXPECT_TRUE(check_kernel_signature(
                  spec_of(code, "k", buffer + R"(, {"name": "n", "type": "int64", "value": "N"}, {"name": "alpha", "type": "float", "value": 2.0})"),
                  "sm_90")
                  .ok());
}

TEST(KernelCheck, ABufferOfDifferentlySizedElementsIsNamed) {
  const std::string message = message_of(check_kernel_signature(
      spec_of("__global__ void k(double* x) { x[0] = 1; }\n", "k", R"({"name": "x", "type": "float*", "count": "N", "output": true})"),
      "sm_90"));
  EXPECT_NE(message.find("args.x: the kernel's parameter 1 is \"double*\", the spec says float*"), std::string::npos) << message;
}

TEST(KernelCheck, ExternCKernelsAreCheckedBySizeFromThePtx) {
  const std::string code = "extern \"C\" __global__ void k(float* x, int n, double d) { x[0] = n + d; }\n";
  const std::string good = R"({"name": "x", "type": "float*", "count": "N", "output": true},
                              {"name": "n", "type": "int", "value": "N"}, {"name": "d", "type": "double", "value": 1.5})";
  auto ok = check_kernel_signature(spec_of(code, "k", good), "sm_90");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->lowered_name, "k");
  EXPECT_TRUE(ok->demangled.empty());
  EXPECT_EQ(ok->params[0].ptx_type, ".u64");
  const std::string bad = message_of(check_kernel_signature(
      spec_of(code, "k", R"({"name": "x", "type": "float*", "count": "N", "output": true},
                            {"name": "n", "type": "int64", "value": "N"}, {"name": "d", "type": "double", "value": 1.5})"),
      "sm_90"));
  EXPECT_NE(bad.find("args.n: the kernel's parameter 2 is .u32 (4 bytes), the spec says int64 (4 bytes against 8)"), std::string::npos)
      << bad;
  const std::string pointer = message_of(check_kernel_signature(
      spec_of(code, "k", R"({"name": "x", "type": "float*", "count": "N", "output": true},
                            {"name": "n", "type": "float*", "count": "N"}, {"name": "d", "type": "double", "value": 1.5})"),
      "sm_90"));
  EXPECT_NE(pointer.find("args.n:"), std::string::npos) << pointer;
}

TEST(KernelCheck, HalfScalarsAndRestrictPointersMatch) {
  const std::string code = "#include <cuda_fp16.h>\n__global__ void k(__half* __restrict__ x, __half s) { x[0] = s; }\n";
  auto ok = check_kernel_signature(
      spec_of(code, "k", R"({"name": "x", "type": "half*", "count": "N", "output": true}, {"name": "s", "type": "half", "value": 1.0})"),
      "sm_90");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
}

TEST(KernelSignature, PtxParameterListsAreRead) {
  const std::string ptx = R"(.visible .entry _Z5withs1SPf(
	.param .align 4 .b8 _Z5withs1SPf_param_0[8],
	.param .u64 .ptr .global .align 4 _Z5withs1SPf_param_1
)
{ ret; }
.visible .entry none()
{ ret; })";
  auto params = workers::ptx_entry_params(ptx, "_Z5withs1SPf");
  ASSERT_TRUE(params.has_value());
  ASSERT_EQ(params->size(), 2u);
  EXPECT_EQ((*params)[0].ptx_type, ".b8");
  EXPECT_EQ((*params)[0].bytes, 8u);
  EXPECT_EQ((*params)[1].ptx_type, ".u64");
  EXPECT_EQ((*params)[1].bytes, 8u);
  auto empty = workers::ptx_entry_params(ptx, "none");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(workers::ptx_entry_params(ptx, "missing").has_value());
}

TEST(KernelSignature, MangledNamesGiveParameterTypes) {
  std::string demangled;
  auto types = workers::demangled_param_types("_Z10vector_addIfEvPT_PKS0_S3_ixcdt", &demangled);
  ASSERT_TRUE(types.has_value());
  EXPECT_EQ(*types, (std::vector<std::string>{"float*", "float const*", "float const*", "int", "long long", "char", "double",
                                              "unsigned short"}));
  EXPECT_FALSE(workers::demangled_param_types("plain").has_value());
  auto none = workers::demangled_param_types("_Z1kv");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

}  // namespace
