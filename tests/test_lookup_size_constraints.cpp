// Lookup answers and constraints that name sizes (issue #14, "Poisoned"): with BLOCK * ITEMS <= N,
// the winner tuned at a larger N can be invalid at a smaller one. A fallback answer must be valid
// at the asked sizes (the next candidate is tried instead), and a default that is invalid at the
// given sizes is said by `ktune lookup`, `ktune space` and `ktune sweep --check`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/lookup_table.hpp"
#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"
#include "tests/helpers/block_sum_spec.hpp"
#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace ktune {
namespace {

using testing::ScratchDir;

constexpr const char* kDevice = "NVIDIA H100 80GB HBM3";

// The default (BLOCK=128, ITEMS=1) needs N >= 128.
const std::string kSpec = ktune::testing::block_sum_spec(128);

class LookupSizeConstraints : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_path_ = dir_ / "block_sum.json";
    std::ofstream(spec_path_) << kSpec;
    spec_ = KernelSpec::from_file(spec_path_).value_or_throw();
  }

  void tune_entry(std::int64_t n, const Config& config) {
    TuningQuestion q{&spec_, {{"N", n}}, {kDevice, "sm_90"}, current_toolchain()};
    auto store = store::Store::open(db()).value_or_throw();
    ASSERT_TRUE(store.put_kernel(q.kernel_record()).ok());
    store::BestRecord best;
    best.tuning = q.tuning_record();
    best.config = config;
    best.time_ns = 1000;
    best.strategy = "exhaustive";
    best.evaluations = 16;
    best.wall_seconds = 1;
    best.tuned_at = 1795305600;
    best.ktune_version = "0.1.0";
    ASSERT_TRUE(store.put_best(best).ok());
  }

  LookupAnswer lookup(std::int64_t n) {
    auto table = LookupTable::open(db()).value_or_throw();
    return table.lookup(spec_, {{"N", n}}, {kDevice, "sm_90"}).value_or_throw();
  }

  std::filesystem::path db() const { return dir_ / "ktune.db"; }

  ScratchDir dir_;
  std::filesystem::path spec_path_;
  KernelSpec spec_;
};

TEST_F(LookupSizeConstraints, TheNearestSizeIsSkippedWhenItsWinnerIsInvalidHere) {
  tune_entry(1024, {{"BLOCK", 256}, {"ITEMS", 4}});  // 1024 threads x items: invalid below N=1024
  tune_entry(128, {{"BLOCK", 64}, {"ITEMS", 2}});
  const LookupAnswer at_700 = lookup(700);  // N=1024 is nearer (0.55 vs 2.45 factors of two)
  ASSERT_EQ(at_700.rule, LookupRule::nearest_size);
  EXPECT_EQ(at_700.entry->tuning.sizes, (Sizes{{"N", 128}}));
  EXPECT_EQ(at_700.entry->config, (Config{{"BLOCK", 64}, {"ITEMS", 2}}));
  const LookupAnswer at_2000 = lookup(2000);  // valid there: the nearest is used
  ASSERT_EQ(at_2000.rule, LookupRule::nearest_size);
  EXPECT_EQ(at_2000.entry->tuning.sizes, (Sizes{{"N", 1024}}));
}

TEST_F(LookupSizeConstraints, NoValidCandidateAnswersTheDefault) {
  tune_entry(4096, {{"BLOCK", 512}, {"ITEMS", 8}});
  const LookupAnswer at_200 = lookup(200);
  EXPECT_EQ(at_200.rule, LookupRule::none);
  EXPECT_FALSE(spec_.why_default_invalid_at({{"N", 200}}));
}

TEST_F(LookupSizeConstraints, AnInvalidDefaultIsSaidByLookup) {
  auto run = testing::run_ktune("lookup " + spec_path_.string() + " --size N=100 --device '" + kDevice +
                                "' --arch sm_90 --db " + db().string());
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("ktune: warning: the spec's default BLOCK=128 ITEMS=1 is not valid at N=100 "
                            "(constraint \"BLOCK * ITEMS <= N\" is false)"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("NOT VALID at these sizes"), std::string::npos) << run.output;
  auto json = testing::run_ktune("lookup " + spec_path_.string() + " --size N=100 --device '" + kDevice +
                                 "' --arch sm_90 --json --db " + db().string() + " 2>/dev/null");
  EXPECT_NE(json.output.find("\"valid\": false"), std::string::npos) << json.output;
  auto fine = testing::run_ktune("lookup " + spec_path_.string() + " --size N=4096 --device '" + kDevice +
                                 "' --arch sm_90 --db " + db().string());
  EXPECT_EQ(fine.output.find("warning"), std::string::npos) << fine.output;
}

TEST_F(LookupSizeConstraints, AnInvalidDefaultIsSaidBySpace) {
  auto run = testing::run_ktune("space " + spec_path_.string() + " --size N=100");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("warning: the default is not valid at N=100: constraint \"BLOCK * ITEMS <= N\" is false"),
            std::string::npos)
      << run.output;
  auto fine = testing::run_ktune("space " + spec_path_.string() + " --size N=4096");
  EXPECT_EQ(fine.output.find("warning"), std::string::npos) << fine.output;
}

TEST_F(LookupSizeConstraints, AnInvalidDefaultIsSaidBySweepCheck) {
  std::ofstream(dir_ / "sweep.json") << R"({"ktune_sweep": 1, "items": [{"spec": "block_sum.json",
                                           "sizes": [{"N": 100}, {"N": 4096}]}]})";
  auto run = testing::run_ktune("sweep " + (dir_ / "sweep.json").string() + " --check");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("N=100                        warning: the spec's default BLOCK=128 ITEMS=1 is not valid "
                            "here: constraint \"BLOCK * ITEMS <= N\" is false"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("N=4096                       warning"), std::string::npos) << run.output;
}

// The issue's "verify is in no key": a winner tuned with verification off is not served once it is
// turned on (the spec with verification is another kernel key), and is served to the same spec.
TEST_F(LookupSizeConstraints, AWinnerTunedWithoutVerificationIsNotServedWithVerificationOn) {
  std::string text = kSpec;
  text.replace(text.find(R"("verify": {"against": "default"})"), 32, R"("verify": false)");
  const KernelSpec unverified = KernelSpec::from_json_text(text).value_or_throw();
  {
    TuningQuestion q{&unverified, {{"N", 4096}}, {kDevice, "sm_90"}, current_toolchain()};
    auto store = store::Store::open(db()).value_or_throw();
    ASSERT_TRUE(store.put_kernel(q.kernel_record()).ok());
    store::BestRecord best;
    best.tuning = q.tuning_record();
    best.config = {{"BLOCK", 512}, {"ITEMS", 8}};
    best.time_ns = 10;
    best.strategy = "exhaustive";
    best.ktune_version = "0.1.0";
    ASSERT_TRUE(store.put_best(best).ok());
  }
  auto table = LookupTable::open(db()).value_or_throw();
  EXPECT_EQ(table.lookup(unverified, {{"N", 4096}}, {kDevice, "sm_90"}).value_or_throw().rule, LookupRule::exact);
  EXPECT_EQ(lookup(4096).rule, LookupRule::none);  // spec_ verifies
}

}  // namespace
}  // namespace ktune
