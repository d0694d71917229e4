// Who tunes which run when a sweep is spread beyond one host (engine/sweep_schedule.hpp): `--shard
// K/N` parsing, shares that partition the plan and balance its estimated work, the same on every
// machine, and the cost estimate the shares and the MPI hand-out order come from.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "engine/sweep.hpp"
#include "engine/sweep_schedule.hpp"

namespace {

using namespace ktune;

const std::filesystem::path kRoot = KTUNE_SOURCE_DIR;

TEST(SweepShard, ParsesKOfNCountingFromOne) {
  auto shard = parse_shard("3/8");
  ASSERT_TRUE(shard.ok()) << shard.error().message;
  EXPECT_EQ(shard->index, 2u);
  EXPECT_EQ(shard->count, 8u);
  EXPECT_EQ(parse_shard("1/1")->index, 0u);
}

TEST(SweepShard, BadSharesAreOneLineErrorsNamingTheProblem) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"", "expected K/N"},          {"3", "expected K/N"},          {"0/4", "K counts from 1 to N (4)"},
      {"5/4", "K counts from 1 to N"}, {"a/4", "whole numbers"},     {"1/0", "N must be at least 1"},
      {"-1/4", "whole numbers"},     {"1/4x", "whole numbers"},      {"1/", "whole numbers"}};
  for (const auto& [text, expected] : bad) {
    auto shard = parse_shard(text);
    ASSERT_FALSE(shard.ok()) << text;
    EXPECT_EQ(shard.error().code, Errc::invalid_argument) << text;
    EXPECT_NE(shard.error().message.find(expected), std::string::npos) << text << ": " << shard.error().message;
    EXPECT_NE(shard.error().message.find("--shard '" + text + "'"), std::string::npos) << shard.error().message;
    EXPECT_EQ(shard.error().message.find('\n'), std::string::npos);
  }
}

// Every run in exactly one shard, each shard in plan order, and no shard more than one run's
// cost above another.
void expect_balanced_partition(const std::vector<std::uint64_t>& costs, std::size_t count) {
  std::vector<int> seen(costs.size(), 0);
  std::uint64_t lightest = UINT64_MAX, heaviest = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const auto runs = shard_runs(costs, {k, count});
    EXPECT_TRUE(std::is_sorted(runs.begin(), runs.end()));
    std::uint64_t load = 0;
    for (std::size_t r : runs) {
      ASSERT_LT(r, costs.size());
      ++seen[r];
      load += costs[r];
    }
    lightest = std::min(lightest, load);
    heaviest = std::max(heaviest, load);
    EXPECT_EQ(runs, shard_runs(costs, {k, count})) << "the same plan gives the same share";
  }
  for (std::size_t r = 0; r < costs.size(); ++r) EXPECT_EQ(seen[r], 1) << "run " << r << " of " << count << " shards";
  const std::uint64_t largest = costs.empty() ? 0 : *std::max_element(costs.begin(), costs.end());
  EXPECT_LE(heaviest - lightest, largest) << count << " shards";
}

TEST(SweepShard, SharesPartitionThePlanAndBalanceItsWork) {
  std::mt19937_64 random(7);
  for (std::size_t runs : {0u, 1u, 5u, 17u, 64u}) {
    std::vector<std::uint64_t> costs(runs);
    for (auto& c : costs) c = 1 + random() % 1000;
    for (std::size_t count : {1u, 2u, 3u, 8u, 100u}) expect_balanced_partition(costs, count);
  }
  // More shards than runs: the extra shards are empty, not an error (a job array may be larger).
  EXPECT_TRUE(shard_runs({5, 5}, {2, 3}).empty());
}

TEST(SweepShard, LongestFirstKeepsPlanOrderAmongEqualCosts) {
  EXPECT_EQ(longest_first({3, 9, 3, 9, 1}), (std::vector<std::size_t>{1, 3, 0, 2, 4}));
}

TEST(SweepShard, RunCostsAreValidConfigurationsCappedByTheBudget) {
  SweepPlan plan = load_sweep(kRoot / "tests/data/sweeps/h100-sgemm-replay.json").value_or_throw();
  EXPECT_EQ(estimate_run_costs(plan), (std::vector<std::uint64_t>{228, 228, 228, 228, 152, 152, 152, 152}));
  plan.items[1].budget = 40;
  const auto costs = estimate_run_costs(plan);
  EXPECT_EQ(costs[4], 40u);
  EXPECT_EQ(costs[0], 228u);
  // Two shards of this plan: four runs each, 228 + 228 + 152 + 152 both.
  for (std::size_t k = 0; k < 2; ++k) {
    const auto runs = shard_runs(estimate_run_costs(load_sweep(kRoot / "tests/data/sweeps/h100-sgemm-replay.json").value_or_throw()), {k, 2});
    EXPECT_EQ(runs.size(), 4u);
  }
}

}  // namespace
