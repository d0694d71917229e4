// The best-first search (tuner/best_first_search.hpp) against synthetic cost functions: what it
// proposes (valid, never twice, wide batches, within its budget), that it leaves a local optimum
// coordinate descent stops at, and that it runs in many small batches on a space of a million
// configurations (how fast a batch is proposed is tools/bench/bench_strategy_latency's figure).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>

#include "tuner/best_first_search.hpp"
#include "tuner/strategy_factory.hpp"
#include "tests/helpers/param_space_of.hpp"

namespace {

using namespace ktune;

using ktune::testing::space_of;

double value(const Config& c, const char* name) { return static_cast<double>(*find_value(c, name)); }

struct Drive {
  std::size_t evaluated = 0;
  std::vector<std::size_t> widths;
  std::optional<std::pair<double, Config>> best;
};

// Runs the strategy to its end; fails the test on a repeated or invalid proposal.
Drive drive(Strategy& s, const SearchSpace& space, const std::function<std::optional<double>(const Config&)>& cost) {
  Drive out;
  std::set<Config> seen;
  for (int round = 0; round < 10000; ++round) {
    auto batch = s.next_batch();
    if (batch.empty()) break;
    out.widths.push_back(batch.size());
    for (const auto& c : batch) {
      EXPECT_TRUE(seen.insert(c).second) << "proposed twice: " << format_named(c);
      EXPECT_TRUE(space.is_valid(c)) << "invalid: " << format_named(c);
      auto t = cost(c);
      s.report(c, t);
      if (t && (!out.best || *t < out.best->first)) out.best = {*t, c};
    }
  }
  out.evaluated = seen.size();
  return out;
}

const std::vector<std::int64_t> kLinear{16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256};

TEST(BestFirst, ProposesValidConfigurationsOnceInWideBatchesWithinItsBudget) {
  auto ps = space_of({{"BX", kLinear}, {"BY", {1, 2, 4, 8, 16}}, {"T", {1, 2, 3, 4}}, {"S", {0, 1}}}, {"BX * BY <= 1024"});
  auto space = SearchSpace::build(ps).value_or_throw();
  BestFirstOptions options;
  options.start = {{"BX", 16}, {"BY", 16}, {"T", 1}, {"S", 1}};
  options.budget = 100;
  auto s = make_best_first(space, options);
  auto run = drive(*s, space, [](const Config& c) { return 1.0 + std::abs(value(c, "BX") - 128) + 10 * value(c, "BY") + value(c, "T"); });
  EXPECT_EQ(run.evaluated, 100u);  // a caller's budget is spent
  ASSERT_FALSE(run.widths.empty());
  for (std::size_t i = 0; i + 1 < run.widths.size(); ++i) EXPECT_GE(run.widths[i], 8u) << "batch " << i;  // the last may be the budget's rest
  EXPECT_EQ(run.best->second, (Config{{"BX", 128}, {"BY", 1}, {"T", 1}, {"S", 0}}));
}

TEST(BestFirst, IsDeterministicForASeedAndDiffersAcrossSeeds) {
  auto ps = space_of({{"A", kLinear}, {"B", kLinear}});
  auto space = SearchSpace::build(ps).value_or_throw();
  BestFirstOptions options;
  options.budget = 40;
  auto a = make_best_first(space, options), b = make_best_first(space, options);
  EXPECT_EQ(a->next_batch(), b->next_batch());
  options.seed = 2;
  auto c = make_best_first(space, options);
  auto first_a = make_best_first(space, BestFirstOptions{{}, 40, 16, 0.2, 0.15, 0, 0.001, 1})->next_batch();
  EXPECT_NE(c->next_batch(), first_a);
}

// A deceptive space: a shallow basin around the start, and the optimum far away in several
// parameters behind a ridge. Coordinate descent stops at the basin's floor; best-first must not.
TEST(BestFirst, LeavesTheLocalOptimumCoordinateDescentStopsAt) {
  auto ps = space_of({{"A", {0, 1, 2, 3, 4, 5, 6, 7}}, {"B", {0, 1, 2, 3, 4, 5, 6, 7}}, {"C", {0, 1, 2, 3, 4, 5, 6, 7}}, {"D", {0, 1}}});
  auto space = SearchSpace::build(ps).value_or_throw();
  auto cost = [](const Config& c) -> std::optional<double> {
    const double a = value(c, "A"), b = value(c, "B"), cc = value(c, "C"), d = value(c, "D");
    const double near = 10 + std::abs(a - 1) + std::abs(b - 1) + std::abs(cc - 1) + d;  // floor 10 at (1,1,1,0)
    const double far = 2 + 3 * (std::abs(a - 6) + std::abs(b - 6) + std::abs(cc - 6)) + 5 * (1 - d);  // floor 2 at (6,6,6,1)
    return std::min(near, far);
  };
  const Config start{{"A", 0}, {"B", 0}, {"C", 0}, {"D", 0}};
  CoordinateDescentOptions cd;
  cd.start = start;
  auto descent = make_coordinate_descent(space, cd);
  auto stuck = drive(*descent, space, cost);
  EXPECT_DOUBLE_EQ(stuck.best->first, 10);  // the premise: coordinate descent stalls here
  std::size_t at_the_floor = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    BestFirstOptions options;
    options.start = start;
    options.budget = 250;  // of 1024
    options.seed = seed;
    auto s = make_best_first(space, options);
    auto run = drive(*s, space, cost);
    EXPECT_LT(run.best->first, 10) << "seed " << seed << " stayed in the start's basin";
    at_the_floor += run.best->first == 2;
    EXPECT_LE(run.evaluated, 250u);
  }
  EXPECT_GE(at_the_floor, 8u);
}

TEST(BestFirst, StopsByItselfWithoutABudget) {
  auto ps = space_of({{"A", kLinear}, {"B", kLinear}, {"C", kLinear}});  // 4096 configurations
  auto space = SearchSpace::build(ps).value_or_throw();
  auto s = make_best_first(space, {});
  auto run = drive(*s, space, [](const Config& c) { return 1.0 + value(c, "A") + value(c, "B") + value(c, "C"); });
  EXPECT_LE(run.evaluated, 400u);  // max(400, 2 % of the space)
  EXPECT_DOUBLE_EQ(run.best->first, 49);
}

TEST(BestFirst, FailedConfigurationsAreNeverCentres) {
  auto ps = space_of({{"X", {1, 2, 4, 8, 16, 32, 64}}});
  auto space = SearchSpace::build(ps).value_or_throw();
  auto s = make_best_first(space, {});
  auto run = drive(*s, space, [](const Config& c) -> std::optional<double> {
    if (value(c, "X") >= 16) return std::nullopt;
    return 100.0 - value(c, "X");
  });
  EXPECT_EQ(run.best->second, (Config{{"X", 8}}));
  EXPECT_EQ(run.evaluated, 7u);  // a space smaller than the budget is searched whole
}

TEST(BestFirst, AMillionConfigurationsAreSearchedInManyBatchesWithinTheBudget) {
  std::vector<Parameter> params;
  for (const char* name : {"A", "B", "C", "D", "E", "F"}) params.push_back({name, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}});
  auto ps = space_of(std::move(params), {"A + B + C + D + E + F <= 50"});
  auto space = SearchSpace::build(ps).value_or_throw();
  ASSERT_GT(space.valid_count(), 900'000u);
  BestFirstOptions options;
  options.budget = 2000;
  auto s = make_best_first(space, options);
  auto cost = [](const Config& c) { return 1.0 + std::abs(value(c, "A") - 7) + std::abs(value(c, "B") - 3) + value(c, "C"); };
  std::size_t batches = 0, evaluated = 0;
  std::optional<double> best;
  for (;;) {
    auto batch = s->next_batch();
    if (batch.empty()) break;
    ++batches;
    evaluated += batch.size();
    for (const auto& c : batch) {
      s->report(c, cost(c));
      best = std::min(best.value_or(cost(c)), cost(c));
    }
  }
  EXPECT_GT(batches, 50u);
  EXPECT_LE(evaluated, 2000u);
  EXPECT_DOUBLE_EQ(best.value_or(0), 2.0);  // A = 7, B = 3, C = 1
  EXPECT_EQ(parse_strategy_kind("best-first"), StrategyKind::best_first);
  EXPECT_EQ(canonical_strategy_name("best_first"), "bestfirst");
}

}  // namespace
