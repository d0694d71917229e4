// NVRTC -> CUBIN in-process (the code every worker runs) and the cubin key.
#include <gtest/gtest.h>

#include "workers/nvrtc_compiler.hpp"

using namespace ktune::workers;

namespace {

const char* kTemplated = R"(template <int N>
__global__ void scale(float* x) { x[threadIdx.x] *= N; }
)";

bool is_elf(const std::string& bytes) { return bytes.size() > 4 && bytes.compare(0, 4, "\x7f" "ELF") == 0; }

}  // namespace

TEST(NvrtcCompiler, CompilesATemplatedKernelToASm90Cubin) {
  CompileJob job;
  job.source = kTemplated;
  job.name_expressions = {"scale<4>"};
  job.arch = "sm_90";
  const CompileResult r = compile_with_nvrtc(job);
  ASSERT_EQ(r.status, CompileStatus::ok) << r.log;
  EXPECT_TRUE(is_elf(r.cubin));
  ASSERT_EQ(r.lowered_names.size(), 1U);
  EXPECT_EQ(r.lowered_names[0], "_Z5scaleILi4EEvPf");
  EXPECT_GT(r.compile_seconds, 0.0);
}

TEST(NvrtcCompiler, DefinesReachTheSourceAndSm90aWorks) {
  CompileJob job;
  job.source = "extern \"C\" __global__ void fill(int* x) { x[0] = VALUE; }\n";
  job.name_expressions = {"fill"};
  job.defines = {"VALUE=7"};  // the -D is added
  job.arch = "sm_90a";
  const CompileResult r = compile_with_nvrtc(job);
  ASSERT_EQ(r.status, CompileStatus::ok) << r.log;
  EXPECT_TRUE(is_elf(r.cubin));
  EXPECT_EQ(r.lowered_names, std::vector<std::string>{"fill"});

  job.defines.clear();  // VALUE undefined now
  EXPECT_EQ(compile_with_nvrtc(job).status, CompileStatus::compile_error);
}

TEST(NvrtcCompiler, ACompileErrorIsAResultWithTheLogNamingTheLine) {
  CompileJob job;
  job.source = "__global__ void k(float* x) {\n  x[0] = 1.0f;\n  x[1] = not_declared;\n}\n";
  job.source_name = "broken.cu";
  job.name_expressions = {"k"};
  const CompileResult r = compile_with_nvrtc(job);
  EXPECT_EQ(r.status, CompileStatus::compile_error);
  EXPECT_TRUE(r.cubin.empty());
  EXPECT_NE(r.log.find("broken.cu(3)"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("not_declared"), std::string::npos) << r.log;
}

TEST(NvrtcCompiler, BadOptionsAndArchitecturesAreCompileErrors) {
  CompileJob job;
  job.source = kTemplated;
  job.name_expressions = {"scale<1>"};
  job.options = {"--no-such-option"};
  EXPECT_EQ(compile_with_nvrtc(job).status, CompileStatus::compile_error);
  job.options.clear();
  job.arch = "sm_9000";
  const CompileResult r = compile_with_nvrtc(job);
  EXPECT_EQ(r.status, CompileStatus::compile_error);
  EXPECT_FALSE(r.log.empty());
}

TEST(NvrtcCompiler, AVirtualArchitectureGivesPtx) {
  // What the entry/args check reads a kernel's parameter list from (workers/kernel_signature.hpp).
  CompileJob job;
  job.source = kTemplated;
  job.name_expressions = {"scale<1>"};
  job.arch = "compute_90";
  const CompileResult ptx = compile_with_nvrtc(job);
  ASSERT_EQ(ptx.status, CompileStatus::ok) << ptx.log;
  EXPECT_NE(ptx.cubin.find(".target sm_90"), std::string::npos);
  ASSERT_EQ(ptx.lowered_names.size(), 1u);
  EXPECT_NE(ptx.cubin.find(".entry " + ptx.lowered_names.front() + "("), std::string::npos) << ptx.cubin.substr(0, 400);
}

TEST(NvrtcCompiler, CubinKeyCanonicalFormIsPinned) {
  CompileJob job;
  job.source = "src";
  job.source_name = "k.cu";
  job.name_expressions = {"f<1>"};
  job.defines = {"BM=64"};
  job.options = {"-std=c++17"};
  job.arch = "sm_90";
  EXPECT_EQ(cubin_canonical_form(job, "13.0"),
            "ktune-cubin-key 1\n"
            "nvrtc 4:13.0\n"
            "arch 5:sm_90\n"
            "source_name 4:k.cu\n"
            "source 3:src\n"
            "names 1\n4:f<1>\n"
            "defines 1\n7:-DBM=64\n"
            "options 1\n10:-std=c++17\n");
  EXPECT_EQ(cubin_key(job, "13.0").hex(), ktune::xxh3_128(cubin_canonical_form(job, "13.0")).hex());
  EXPECT_EQ(cubin_key(job, "13.0").hex(), "d03e2e5a53fd35cf2fc1f3f40ea074d8");
}

TEST(NvrtcCompiler, CubinKeyCoversEveryOutputAffectingField) {
  CompileJob base;
  base.source = kTemplated;
  base.name_expressions = {"scale<2>"};
  base.defines = {"-DA=1"};
  base.options = {"-O3"};
  const auto key = cubin_key(base, "13.0");

  auto differs = [&](auto&& change) {
    CompileJob j = base;
    change(j);
    return !(cubin_key(j, "13.0") == key);
  };
  EXPECT_TRUE(differs([](CompileJob& j) { j.source += " "; }));
  EXPECT_TRUE(differs([](CompileJob& j) { j.source_name = "other.cu"; }));
  EXPECT_TRUE(differs([](CompileJob& j) { j.name_expressions = {"scale<3>"}; }));
  EXPECT_TRUE(differs([](CompileJob& j) { j.defines = {"-DA=2"}; }));
  EXPECT_TRUE(differs([](CompileJob& j) { j.options = {"-O2"}; }));
  EXPECT_TRUE(differs([](CompileJob& j) { j.arch = "sm_90a"; }));
  EXPECT_FALSE(cubin_key(base, "13.1") == key);
  // Field boundaries are length-prefixed: moving a character between fields changes the key.
  EXPECT_TRUE(differs([](CompileJob& j) { j.defines = {"-DA=1", ""}; }));
  // Same output, same key: the NVRTC disk cache switch and the spelling of a define.
  EXPECT_FALSE(differs([](CompileJob& j) { j.use_nvrtc_cache = false; }));
  EXPECT_FALSE(differs([](CompileJob& j) { j.defines = {"A=1"}; }));
}

TEST(NvrtcCompiler, ReportsItsVersion) {
  const std::string v = nvrtc_version();
  EXPECT_NE(v, "unknown");
  EXPECT_NE(v.find('.'), std::string::npos);
}
