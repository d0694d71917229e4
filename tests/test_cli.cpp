// The ktune command line as a user runs it: real binary, real files, one-line errors.
#include <gtest/gtest.h>

#include "tests/helpers/run_ktune.hpp"
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

using Run = ktune::testing::CliRun;
Run ktune(const std::string& args) { return ktune::testing::run_ktune(args); }
using ktune::testing::has_gpu_driver;

const std::string kExamples = std::string(KTUNE_SOURCE_DIR) + "/examples";
const std::string kSpecs = std::string(KTUNE_SOURCE_DIR) + "/tests/specs";

TEST(Cli, VersionAndHelp) {
  auto version = ktune("--version");
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.output, "ktune 0.1.0\n");
  auto help = ktune("--help");
  EXPECT_EQ(help.status, 0);
  for (const char* sub : {"doctor", "space", "key", "compile", "lookup", "show", "export", "import"})
    EXPECT_NE(help.output.find(sub), std::string::npos) << sub;
}

TEST(Cli, UsageErrorsAreOneLineAndNonZero) {
  auto unknown = ktune("frobnicate");
  EXPECT_NE(unknown.status, 0);
  EXPECT_EQ(unknown.output.rfind("ktune: error: ", 0), 0u) << unknown.output;
  EXPECT_EQ(std::count(unknown.output.begin(), unknown.output.end(), '\n'), 1);
  auto missing = ktune("space");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("spec is required"), std::string::npos) << missing.output;
}

TEST(Cli, SpacePrintsTheExampleSpace) {
  auto run = ktune("space " + kExamples + "/sgemm.json");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("sgemm_tiled"), std::string::npos);
  EXPECT_NE(run.output.find("product      243 configurations"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("valid        228 (93.8 %)"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("(BM / TM) * (BN / TN) <= 1024            rejects 15"), std::string::npos);
  EXPECT_NE(run.output.find("default      BM=64 BN=64 BK=8 TM=4 TN=4"), std::string::npos);
}

TEST(Cli, SpaceJsonIsMachineReadable) {
  auto run = ktune("space " + kExamples + "/sgemm.json --json --samples 3");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("\"valid\": 228"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"samples\": ["), std::string::npos);
}

TEST(Cli, InvalidSpecGivesOneLineNamingFileAndField) {
  auto run = ktune("space " + kSpecs + "/invalid/empty_value_list.json");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output, "ktune: error: " + kSpecs + "/invalid/empty_value_list.json: params.TB: empty value list\n");
}

TEST(Cli, KeyWithExplicitDeviceWorksWithoutGpu) {
  auto run = ktune("key " + kExamples + "/sgemm.json --size M=4096,N=4096,K=4096 --device 'NVIDIA H100 80GB HBM3' --arch sm_90");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.output.rfind("kernel  ", 0), 0u);
  EXPECT_NE(run.output.find("tuning  "), std::string::npos);
  EXPECT_NE(run.output.find("M=4096 N=4096 K=4096 on NVIDIA H100 80GB HBM3 sm_90"), std::string::npos);
  // Size order on the command line does not change the key.
  auto reordered = ktune("key " + kExamples + "/sgemm.json --size K=4096,M=4096,N=4096 --device 'NVIDIA H100 80GB HBM3' --arch sm_90");
  EXPECT_EQ(run.output, reordered.output);
}

TEST(Cli, KeyNamesAMissingSize) {
  auto run = ktune("key " + kExamples + "/sgemm.json --size M=4096,N=4096 --device X --arch sm_90");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output, "ktune: error: --size: missing size K for kernel sgemm_tiled (give all of M, N, K)\n");
}

TEST(Cli, KeyWithoutGpuOrDeviceSaysWhatToPass) {
  if (has_gpu_driver()) GTEST_SKIP() << "a GPU is present: the device is detected";
  auto run = ktune("key " + kExamples + "/sgemm.json --size M=1,N=1,K=1");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("pass --device NAME --arch sm_XX"), std::string::npos) << run.output;
}

TEST(Cli, DoctorReportsEachCheck) {
  auto run = ktune("doctor");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("ok    NVRTC "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("test compile to sm_90 CUBIN"), std::string::npos);
  EXPECT_NE(run.output.find("compile worker "), std::string::npos);
  EXPECT_NE(run.output.find("ok    library engine: compiles started 1, finished 1, failed 0"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(" store "), std::string::npos);
  if (!has_gpu_driver()) {
    EXPECT_NE(run.output.find("--    GPU: "), std::string::npos) << run.output;
  }
  EXPECT_NE(run.output.find("\nready\n"), std::string::npos);
}

}  // namespace
