// The GPU's output comparison (engine/runner/device_compare/) without a GPU: the PTX the runner
// embeds is exactly what NVRTC makes of device_compare.cu today (so an edit of the kernel cannot
// ship with stale PTX: run device_compare/generate.sh), and it compiles without a warning.
#include <gtest/gtest.h>
#include <nvrtc.h>

#include <fstream>
#include <sstream>
#include <string>

#include "engine/runner/device_compare/device_compare_ptx.hpp"

namespace {

std::string without_comments(const std::string& ptx) {
  std::stringstream in(ptx);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("//", 0) != 0) out += line + "\n";
  return out;
}

}  // namespace

TEST(DeviceCompare, TheEmbeddedPtxIsTheCompiledSource) {
  std::ifstream in(std::string(KTUNE_SOURCE_DIR) + "/engine/runner/device_compare/device_compare.cu");
  ASSERT_TRUE(in) << "device_compare.cu not found";
  std::stringstream source;
  source << in.rdbuf();
  nvrtcProgram program = nullptr;
  ASSERT_EQ(nvrtcCreateProgram(&program, source.str().c_str(), "device_compare.cu", 0, nullptr, nullptr), NVRTC_SUCCESS);
  const char* options[] = {"--gpu-architecture=compute_75"};
  const nvrtcResult compiled = nvrtcCompileProgram(program, 1, options);
  std::size_t size = 0;
  nvrtcGetProgramLogSize(program, &size);
  std::string log(size, '\0');
  nvrtcGetProgramLog(program, log.data());
  ASSERT_EQ(compiled, NVRTC_SUCCESS) << log;
  EXPECT_EQ(log.find("warning"), std::string::npos) << log;
  nvrtcGetPTXSize(program, &size);
  std::string ptx(size, '\0');
  nvrtcGetPTX(program, ptx.data());
  nvrtcDestroyProgram(&program);
  ptx.resize(ptx.find('\0'));
  EXPECT_EQ(without_comments(ptx), without_comments(ktune::runner::kDeviceComparePtx))
      << "engine/runner/device_compare/device_compare_ptx.cpp is stale: run engine/runner/device_compare/generate.sh";
  EXPECT_NE(ptx.find(".entry ktune_compare("), std::string::npos);
}
