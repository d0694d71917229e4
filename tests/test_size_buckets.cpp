// Buckets (issue 14, "Also wanted by people who tune for dynamic shapes"): a spec declares how a
// size is bucketed, one tuning serves every size in its bucket, and lookups say which rule
// answered — exact, bucket, or nearest size for sizes outside every bucket. Real spec files, a
// real store, the real CLI.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/lookup_table.hpp"
#include "engine/model/size_buckets.hpp"
#include "engine/model/spec.hpp"
#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"
#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace fs = std::filesystem;
using ktune::SizeBuckets;
using ktune::testing::run_shell;
using ktune::testing::ScratchDir;

namespace {

const char* kH100 = "NVIDIA H100 80GB HBM3";

// examples/sgemm.json with its source made absolute and `buckets` set.
nlohmann::json sgemm_with_buckets(const nlohmann::json& buckets) {
  std::ifstream in(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json");
  nlohmann::json spec = nlohmann::json::parse(in);
  spec["source"] = std::string(KTUNE_SOURCE_DIR) + "/examples/" + spec["source"].get<std::string>();
  if (!buckets.is_null()) spec["buckets"] = buckets;
  return spec;
}

}  // namespace

TEST(SizeBuckets, PowersOfTwoAndExplicitEdges) {
  const SizeBuckets pow2{"M", true, {}};
  const std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> pow2_cases{
      {1, 1}, {2, 2}, {3, 4}, {1000, 1024}, {1024, 1024}, {1025, 2048}, {0, std::nullopt}, {-5, std::nullopt},
      {(std::int64_t{1} << 62) + 1, std::nullopt}};
  for (const auto& [size, expected] : pow2_cases) EXPECT_EQ(pow2.representative(size), expected) << size;
  const SizeBuckets edges{"N", false, {1, 64, 512, 4096}};
  const std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> edge_cases{
      {1, 1}, {2, 64}, {64, 64}, {65, 512}, {512, 512}, {4000, 4096}, {4096, 4096}, {4097, std::nullopt}, {0, std::nullopt}};
  for (const auto& [size, expected] : edge_cases) EXPECT_EQ(edges.representative(size), expected) << size;
  EXPECT_EQ(pow2.describe(), "pow2");
  EXPECT_EQ(edges.describe(), "[1, 64, 512, 4096]");
}

TEST(SizeBuckets, TheSpecDeclaresThemAndSizesMapToTheirRepresentative) {
  auto spec = ktune::KernelSpec::from_json_text(sgemm_with_buckets({{"M", "pow2"}, {"N", {1, 64, 512, 4096}}}).dump());
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_EQ(spec->buckets.size(), 2u);
  EXPECT_EQ(spec->bucketed_sizes({{"M", 1000}, {"N", 100}, {"K", 333}}), (ktune::Sizes{{"M", 1024}, {"N", 512}, {"K", 333}}));
  EXPECT_EQ(spec->bucketed_sizes({{"M", 1024}, {"N", 9000}, {"K", 1}}), (ktune::Sizes{{"M", 1024}, {"N", 9000}, {"K", 1}}));
  // Buckets decide which entry answers, not what the kernel is: the kernel key does not change.
  auto plain = ktune::KernelSpec::from_json_text(sgemm_with_buckets(nullptr).dump());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(ktune::kernel_key(*spec), ktune::kernel_key(*plain));
}

TEST(SizeBuckets, HostileBucketDeclarationsAreRefusedInOneLine) {
  const std::vector<std::pair<nlohmann::json, std::string>> cases{
      {"pow2", "buckets: must be an object"},
      {{{"M", "pow3"}}, "buckets.M: must be \"pow2\" or an array"},
      {{{"M", 5}}, "buckets.M: must be \"pow2\" or an array"},
      {{{"M", nullptr}}, "buckets.M: must be \"pow2\" or an array"},
      {{{"M", nlohmann::json::object()}}, "buckets.M: must be \"pow2\" or an array"},
      {{{"M", nlohmann::json::array()}}, "buckets.M: must list 1 to 65536 edges"},
      {{{"M", {64, 32}}}, "buckets.M[1]: edges must increase strictly"},
      {{{"M", {64, 64}}}, "buckets.M[1]: edges must increase strictly"},
      {{{"M", {-1, 64}}}, "buckets.M[0]: must be a non-negative integer"},
      {{{"M", {1.5}}}, "buckets.M[0]: must be a non-negative integer"},
      {{{"M", {"64"}}}, "buckets.M[0]: must be a non-negative integer"},
      {{{"M", {true}}}, "buckets.M[0]: must be a non-negative integer"},
      {{{"X", "pow2"}}, "buckets.X: \"X\" is not one of the spec's sizes"},
      {{{"BM", "pow2"}}, "buckets.BM: \"BM\" is not one of the spec's sizes"},
      {{{"M", "pow2"}, {"", "pow2"}}, "buckets.: \"\" is not one of the spec's sizes"},
  };
  int count = 0;
  for (const auto& [buckets, expected] : cases) {
    SCOPED_TRACE(buckets.dump());
    ++count;
    auto spec = ktune::KernelSpec::from_json_text(sgemm_with_buckets(buckets).dump());
    ASSERT_FALSE(spec.ok());
    EXPECT_NE(spec.error().message.find(expected), std::string::npos) << spec.error().message;
    EXPECT_EQ(spec.error().message.find('\n'), std::string::npos);
  }
  std::printf("[hostile cases] bucket declarations: %d\n", count);
}

class BucketLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_file_ = dir_ / "sgemm_buckets.json";
    std::ofstream(spec_file_) << sgemm_with_buckets({{"M", "pow2"}, {"N", {1, 64, 512, 4096}}}).dump(2);
    spec_ = ktune::KernelSpec::from_file(spec_file_).value_or_throw();
    db_ = dir_ / "store.db";
  }

  // What `ktune tune` stores for a bucketed spec: the entry at the bucket's representative sizes.
  void tune_entry(const ktune::Sizes& sizes) {
    ktune::TuningQuestion q{&spec_, spec_.bucketed_sizes(sizes), {kH100, "sm_90"}, ktune::current_toolchain()};
    auto store = ktune::store::Store::open(db_).value_or_throw();
    ASSERT_TRUE(store.put_kernel(q.kernel_record()).ok());
    ktune::store::BestRecord best;
    best.tuning = q.tuning_record();
    best.config = {{"BM", 128}, {"BN", 128}, {"BK", 8}, {"TM", 8}, {"TN", 8}};
    best.time_ns = 1.84e6;
    best.strategy = "bestfirst";
    best.tuned_at = 1795305600;
    best.ktune_version = "0.1.0";
    ASSERT_TRUE(store.put_best(best).ok());
  }

  std::string lookup(const std::string& sizes, const std::string& extra = "") {
    auto run = run_shell(std::string(KTUNE_CLI) + " lookup " + spec_file_.string() + " --size " + sizes + " --device '" + kH100 +
                         "' --arch sm_90 --db " + db_.string() + extra);
    EXPECT_EQ(run.status, 0) << run.output;
    return run.output;
  }

  ScratchDir dir_{"ktune-buckets"};
  fs::path spec_file_, db_;
  ktune::KernelSpec spec_;
};

TEST_F(BucketLookup, OneTuningServesItsBucketAndTheAnswerSaysSo) {
  tune_entry({{"M", 1000}, {"N", 300}, {"K", 4096}});  // stored as M=1024 N=512 K=4096
  EXPECT_EQ(lookup("M=1024,N=512,K=4096").rfind("BM=128 BN=128 BK=8 TM=8 TN=8   (exact match", 0), 0u);
  for (const char* in_bucket : {"M=1000,N=300,K=4096", "M=513,N=65,K=4096", "M=1023,N=511,K=4096"}) {
    const std::string answer = lookup(in_bucket);
    EXPECT_EQ(answer.rfind("BM=128 BN=128 BK=8 TM=8 TN=8   (bucket match, tuned at M=1024 N=512 K=4096 for its bucket", 0), 0u)
        << in_bucket << ": " << answer;
  }
  const auto json = nlohmann::json::parse(lookup("M=700,N=100,K=4096", " --json"));
  EXPECT_EQ(json["rule"], "bucket");
  EXPECT_EQ(json["tuned_sizes"], "M=1024 N=512 K=4096");
  // Another bucket of M: the nearest-size fallback still answers.
  EXPECT_NE(lookup("M=2000,N=300,K=4096").find("nearest tuned size M=1024 N=512 K=4096"), std::string::npos);
  // N outside every bucket of N (above the last edge): not bucketed, nearest size.
  EXPECT_NE(lookup("M=1000,N=9000,K=4096").find("nearest tuned size"), std::string::npos);
}

TEST_F(BucketLookup, TheLibraryReportsTheBucketRule) {
  tune_entry({{"M", 64}, {"N", 64}, {"K", 64}});
  auto table = ktune::LookupTable::open(db_).value_or_throw();
  auto answer = table.lookup(spec_, {{"M", 50}, {"N", 2}, {"K", 64}}, {kH100, "sm_90"});
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->rule, ktune::LookupRule::bucket);
  EXPECT_EQ(ktune::store::to_string(answer->rule), "bucket");
  auto exact = table.lookup(spec_, {{"M", 64}, {"N", 64}, {"K", 64}}, {kH100, "sm_90"});
  EXPECT_EQ(exact->rule, ktune::LookupRule::exact);
}
