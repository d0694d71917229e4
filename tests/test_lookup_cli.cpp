// `ktune lookup` on the example spec: the answer and the rule that matched, from a real store.
#include <gtest/gtest.h>

#include "tests/helpers/run_ktune.hpp"
#include <sys/wait.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"

namespace {

std::string run(const std::string& args, int* status = nullptr) {
  auto result = ktune::testing::run_ktune(args);
  if (status) *status = result.status;
  return result.output;
}

class LookupCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ktune-lookup-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    db_ = dir_ / "store.db";
    spec_ = ktune::KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void tune_entry(const ktune::Sizes& sizes, const std::string& device, const ktune::Config& config, double ns) {
    ktune::TuningQuestion q{&spec_, sizes, {device, "sm_90"}, ktune::current_toolchain()};
    auto store = ktune::store::Store::open(db_).value_or_throw();
    ASSERT_TRUE(store.put_kernel(q.kernel_record()).ok());
    ktune::store::BestRecord best;
    best.tuning = q.tuning_record();
    best.config = config;
    best.time_ns = ns;
    best.strategy = "exhaustive";
    best.evaluations = 228;
    best.wall_seconds = 3.9;
    best.tuned_at = 1795305600;  // 2026-11-22
    best.ktune_version = "0.1.0";
    auto ok = store.put_best(best);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
  }

  std::string lookup(const std::string& sizes, const std::string& device) {
    return run("lookup " + std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json --size " + sizes + " --device '" +
               device + "' --arch sm_90 --db " + db_.string());
  }

  std::filesystem::path dir_, db_;
  ktune::KernelSpec spec_;
};

const char* kH100 = "NVIDIA H100 80GB HBM3";
const ktune::Config kBest{{"BM", 128}, {"BN", 128}, {"BK", 8}, {"TM", 8}, {"TN", 8}};

TEST_F(LookupCli, NoStoreAnswersTheDefaultAndCreatesNothing) {
  EXPECT_EQ(lookup("M=4096,N=4096,K=4096", kH100),
            "BM=64 BN=64 BK=8 TM=4 TN=4   (the spec's default: nothing tuned for this kernel here)\n");
  EXPECT_FALSE(std::filesystem::exists(db_));
}

TEST_F(LookupCli, ExactNearestAndSameArchitecture) {
  tune_entry({{"M", 4096}, {"N", 4096}, {"K", 4096}}, kH100, kBest, 1.84e6);
  EXPECT_EQ(lookup("M=4096,N=4096,K=4096", kH100),
            "BM=128 BN=128 BK=8 TM=8 TN=8   (exact match, tuned 2026-11-22 on NVIDIA H100 80GB HBM3, 1.840 ms)\n");
  std::string nearest = lookup("M=2048,N=4096,K=4096", kH100);
  EXPECT_EQ(nearest.rfind("BM=128 BN=128 BK=8 TM=8 TN=8   (nearest tuned size M=4096 N=4096 K=4096, distance 1.00", 0), 0u)
      << nearest;
  std::string other = lookup("M=4096,N=4096,K=4096", "NVIDIA H100 PCIe");
  EXPECT_EQ(other.rfind("BM=128 BN=128 BK=8 TM=8 TN=8   (same architecture, tuned on NVIDIA H100 80GB HBM3", 0), 0u) << other;
  int status = 0;
  std::string json = run("lookup " + std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json --size M=4096,N=4096,K=4096 --device '" +
                             kH100 + "' --arch sm_90 --json --db " + db_.string(), &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(json.find("\"rule\": \"exact\""), std::string::npos) << json;
}

TEST_F(LookupCli, CorruptStoreIsAClearErrorAndUntouched) {
  std::filesystem::create_directories(dir_);
  { std::ofstream(db_) << "this is not a database"; }
  int status = 0;
  std::string out = run("lookup " + std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json --size M=1,N=1,K=1 --device X --arch sm_90 --db " +
                            db_.string(), &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(out.rfind("ktune: error: ", 0), 0u) << out;
  std::ifstream in(db_);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "this is not a database");
}

}  // namespace
