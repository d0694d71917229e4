// Hot lookups through a PreparedKernel (issue #20): the same answers as the spec path, keys that
// cannot go stale (the prepared kernel is a snapshot: changing the caller's spec afterwards changes
// nothing, a changed spec prepared again is another kernel), sizes in any order, and errors that
// are not cached away.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "tests/helpers/engine_on_recording.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using ktune::testing::kRecordedH100;
using ktune::testing::ScratchDir;

struct PreparedKernelLookup : ::testing::Test {
  void SetUp() override {
    engine = Engine::create(ktune::testing::recorded_engine_options(dir)).value_or_throw();
    TuneOptions tune;
    tune.strategy = "coordesc";
    best = engine->tune(spec, sizes, tune).value_or_throw().report.best;
  }
  ScratchDir dir{"ktune-prepared"};
  std::unique_ptr<Engine> engine;
  KernelSpec spec = ktune::testing::example_sgemm();
  const Sizes sizes{{"M", 2048}, {"N", 2048}, {"K", 2048}};
  Config best;
};

TEST_F(PreparedKernelLookup, AnswersAsTheSpecPathDoes) {
  const PreparedKernel kernel = PreparedKernel::from(spec);
  for (int i = 0; i < 3; ++i) {  // the first computes the keys, the others reuse them
    auto prepared = engine->lookup(kernel, sizes);
    ASSERT_TRUE(prepared.ok()) << prepared.error().message;
    ASSERT_EQ(prepared->rule, LookupRule::exact);
    EXPECT_EQ(prepared->entry->config, best);
  }
  auto plain = engine->lookup(spec, sizes, kRecordedH100).value_or_throw();
  EXPECT_EQ(plain.rule, LookupRule::exact);
  EXPECT_EQ(plain.entry->config, best);
  // Another device of the same architecture: the same fallback as the spec path.
  const DeviceSignature other{"NVIDIA H100 PCIe", "sm_90"};
  EXPECT_EQ(engine->lookup(kernel, sizes, other).value_or_throw().rule, engine->lookup(spec, sizes, other).value_or_throw().rule);
}

TEST_F(PreparedKernelLookup, SizesInAnyOrderAndBadSizesEveryTime) {
  const PreparedKernel kernel = PreparedKernel::from(spec);
  auto reordered = engine->lookup(kernel, {{"K", 2048}, {"M", 2048}, {"N", 2048}});
  ASSERT_TRUE(reordered.ok());
  EXPECT_EQ(reordered->rule, LookupRule::exact);
  for (int i = 0; i < 2; ++i) {
    auto missing = engine->lookup(kernel, {{"M", 2048}, {"N", 2048}});
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("K"), std::string::npos) << missing.error().message;
  }
  EXPECT_EQ(engine->lookup(kernel, {{"M", 4096}, {"N", 4096}, {"K", 4096}}).value_or_throw().rule, LookupRule::nearest_size);
}

TEST_F(PreparedKernelLookup, ASnapshotCannotGoStale) {
  KernelSpec mutable_spec = spec;
  const PreparedKernel kernel = PreparedKernel::from(mutable_spec);
  ASSERT_EQ(engine->lookup(kernel, sizes).value_or_throw().rule, LookupRule::exact);

  // The caller changes its spec (another launch mapping: another kernel) after preparing it.
  mutable_spec.source += "\n// a different kernel now\n__device__ int ktune_changed;\n";
  EXPECT_EQ(engine->lookup(kernel, sizes).value_or_throw().rule, LookupRule::exact);  // the snapshot is unchanged
  EXPECT_EQ(kernel.spec().source, spec.source);
  // Prepared again, the changed spec is a kernel nothing was tuned for.
  const PreparedKernel changed = PreparedKernel::from(mutable_spec);
  EXPECT_EQ(engine->lookup(changed, sizes).value_or_throw().rule, LookupRule::none);
  EXPECT_EQ(engine->lookup(mutable_spec, sizes, kRecordedH100).value_or_throw().rule, LookupRule::none);
  // Copies share the snapshot and its keys.
  const PreparedKernel copy = kernel;
  EXPECT_EQ(&copy.spec(), &kernel.spec());
}

TEST_F(PreparedKernelLookup, ManyThreadsShareOnePreparedKernel) {
  const PreparedKernel kernel = PreparedKernel::from(spec);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const PreparedKernel mine = kernel;  // copies share the snapshot and its question cache
      for (int i = 0; i < 300; ++i) {
        const std::int64_t m = 512 << ((i + t) % 4);  // 2048 is the tuned size, the others fall back
        auto answer = engine->lookup(mine, {{"M", m}, {"N", 2048}, {"K", 2048}});
        const LookupRule expected = m == 2048 ? LookupRule::exact : LookupRule::nearest_size;
        if (!answer.ok() || answer->rule != expected || answer->entry->config != best) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
