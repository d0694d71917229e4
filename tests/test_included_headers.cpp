// An edited header is seen (issue #14, "Stale"): the contents of the headers a kernel includes
// through its include_dirs (and the source's folder) are in the kernel key and the cubin key;
// the toolkit's own headers are not read (the toolchain's identity covers them); the walk is
// bounded. Real files in a scratch folder, the real spec parser, the real key and compile job.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/model/included_headers.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "tests/helpers/scratch_dir.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace ktune {
namespace {

using testing::ScratchDir;

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

class IncludedHeadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write(dir_ / "kernel.cu",
          "#include \"ops.cuh\"\n#include <cuda_fp16.h>\n#include <missing_anywhere.h>\n"
          "__global__ void scale(float* y, int n) { int i = blockIdx.x * BS + threadIdx.x; if (i < n) y[i] = op(y[i]); }\n");
    write(dir_ / "include/ops.cuh", "#pragma once\n#include \"detail/inner.cuh\"\n__device__ float op(float x) { return inner(x); }\n");
    write(dir_ / "include/detail/inner.cuh", "#pragma once\n#include \"../ops.cuh\"\n__device__ float inner(float x) { return 2 * x; }\n");
    write(dir_ / "spec.json", R"j({"ktune_spec": 1, "name": "scale", "source": "kernel.cu", "entry": "scale",
      "sizes": ["n"], "params": {"BS": [64, 128]}, "default": {"BS": 64},
      "compile": {"include_dirs": ["include"]}, "launch": {"grid": ["ceil_div(n, BS)"], "block": ["BS"]},
      "args": [{"name": "y", "type": "float*", "count": "n", "output": true}, {"name": "n", "type": "int", "value": "n"}]})j");
  }
  KernelSpec load() { return KernelSpec::from_file(dir_ / "spec.json").value_or_throw(); }
  std::string kernel() { return kernel_key(load()).hex(); }
  std::string cubin() {
    const KernelSpec spec = load();
    return cubin_key(make_compile_job(spec, {{"BS", 64}}, "sm_90", true), "13.0").hex();
  }

  ScratchDir dir_;
};

TEST_F(IncludedHeadersTest, AnEditedHeaderChangesTheKernelKeyAndTheCubinKey) {
  const std::string kernel_before = kernel(), cubin_before = cubin();
  write(dir_ / "include/ops.cuh", "#pragma once\n#include \"detail/inner.cuh\"\n__device__ float op(float x) { return inner(x) + 1; }\n");
  EXPECT_NE(kernel(), kernel_before);
  EXPECT_NE(cubin(), cubin_before);
}

TEST_F(IncludedHeadersTest, AHeaderIncludedByAHeaderIsSeenToo) {
  const std::string kernel_before = kernel(), cubin_before = cubin();
  write(dir_ / "include/detail/inner.cuh", "#pragma once\n#include \"../ops.cuh\"\n__device__ float inner(float x) { return 3 * x; }\n");
  EXPECT_NE(kernel(), kernel_before);
  EXPECT_NE(cubin(), cubin_before);
}

TEST_F(IncludedHeadersTest, TheWalkFindsEachHeaderOnceAndSkipsTheToolkitAndUnknownNames) {
  const IncludedHeaders headers = included_headers(load());
  EXPECT_EQ(headers.headers, 2u);  // ops.cuh and detail/inner.cuh (the cycle back to ops.cuh ends)
  EXPECT_FALSE(headers.truncated);
  EXPECT_EQ(headers.digest.size(), 32u);
}

TEST_F(IncludedHeadersTest, TheSameTreeElsewhereGivesTheSameKey) {
  const std::string here = kernel();
  ScratchDir other;
  std::filesystem::copy(dir_.path, other.path, std::filesystem::copy_options::recursive);
  EXPECT_EQ(kernel_key(KernelSpec::from_file(other / "spec.json").value_or_throw()).hex(), here);
}

TEST_F(IncludedHeadersTest, AKernelWithoutHeadersKeepsItsKey) {
  write(dir_ / "kernel.cu", "#include <cuda_fp16.h>\n__global__ void scale(float* y, int n) { if (n) y[0] = BS; }\n");
  const KernelSpec spec = load();
  EXPECT_TRUE(included_headers(spec).digest.empty());
  EXPECT_EQ(kernel_canonical_form(spec).find("\"headers\""), std::string::npos);
}

TEST_F(IncludedHeadersTest, AnIncludeCycleAndADeepChainAreBounded) {
  // a0 includes a1 includes ... a40: deeper than kMaxIncludeDepth.
  for (int i = 0; i < 40; ++i)
    write(dir_ / ("include/a" + std::to_string(i) + ".cuh"), "#include \"a" + std::to_string(i + 1) + ".cuh\"\n");
  write(dir_ / "include/a40.cuh", "#include \"a0.cuh\"\n");
  write(dir_ / "kernel.cu", "#include \"a0.cuh\"\n__global__ void scale(float* y, int n) { if (n) y[0] = BS; }\n");
  const IncludedHeaders headers = included_headers(load());
  EXPECT_TRUE(headers.truncated);
  EXPECT_LE(headers.headers, static_cast<std::size_t>(kMaxIncludeDepth) + 1);
  EXPECT_EQ(headers.digest.size(), 32u);
}

}  // namespace
}  // namespace ktune
