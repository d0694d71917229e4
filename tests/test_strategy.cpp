// Search strategies against synthetic cost functions: what each proposes and when it stops.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>

#include "tuner/strategy.hpp"
#include "tests/helpers/param_space_of.hpp"

namespace {

using namespace ktune;

using ktune::testing::space_of;

// Drives a strategy to the end against `cost`; returns how many configurations it evaluated and
// the best it found. Fails the test if a configuration is proposed twice.
std::pair<std::size_t, Config> drive(Strategy& strategy, const std::function<std::optional<double>(const Config&)>& cost) {
  std::set<Config> seen;
  std::optional<std::pair<double, Config>> best;
  for (int round = 0; round < 1000; ++round) {
    auto batch = strategy.next_batch();
    if (batch.empty()) break;
    for (const auto& c : batch) {
      EXPECT_TRUE(seen.insert(c).second) << "proposed twice: " << format_named(c);
      auto t = cost(c);
      strategy.report(c, t);
      if (t && (!best || *t < best->first)) best = {*t, c};
    }
  }
  return {seen.size(), best ? best->second : Config{}};
}

double value(const Config& c, const char* name) { return static_cast<double>(*find_value(c, name)); }

TEST(Strategy, ExhaustiveProposesEveryValidConfigurationOnce) {
  auto ps = space_of({{"A", {1, 2, 4}}, {"B", {1, 2, 4}}}, {"A * B <= 8"});
  auto space = SearchSpace::build(ps).value_or_throw();
  auto s = make_exhaustive(space);
  auto [n, best] = drive(*s, [](const Config& c) { return value(c, "A") + value(c, "B"); });
  EXPECT_EQ(n, space.valid_count());
  EXPECT_EQ(best, (Config{{"A", 1}, {"B", 1}}));
}

TEST(Strategy, RandomIsDeterministicAndBounded) {
  auto ps = space_of({{"A", {1, 2, 3, 4, 5, 6, 7, 8}}, {"B", {1, 2, 3, 4, 5, 6, 7, 8}}});
  auto space = SearchSpace::build(ps).value_or_throw();
  auto a = make_random(space, 10, 7), b = make_random(space, 10, 7);
  EXPECT_EQ(a->next_batch(), b->next_batch());
  EXPECT_TRUE(a->next_batch().empty());
}

TEST(Strategy, CoordinateDescentWalksDownhillInParallelPasses) {
  std::vector<std::int64_t> pow2{1, 2, 4, 8, 16, 32, 64, 128, 256};
  auto ps = space_of({{"X", pow2}, {"Y", pow2}});
  auto space = SearchSpace::build(ps).value_or_throw();
  CoordinateDescentOptions options;
  options.start = {{"X", 1}, {"Y", 256}};
  auto s = make_coordinate_descent(space, options);
  // A bowl with its minimum at X=32, Y=8.
  auto cost = [](const Config& c) {
    return std::pow(std::log2(value(c, "X")) - 5, 2) + std::pow(std::log2(value(c, "Y")) - 3, 2) + 1.0;
  };
  EXPECT_EQ(s->next_batch(), (std::vector<Config>{options.start}));
  s->report(options.start, cost(options.start));
  auto pass = s->next_batch();  // all neighbours of the start, at once
  EXPECT_EQ(pass.size(), 2u);
  for (const auto& c : pass) s->report(c, cost(c));
  auto [n, best] = drive(*s, cost);
  EXPECT_EQ(best, (Config{{"X", 32}, {"Y", 8}}));
  EXPECT_LT(n + 3, 81u / 2);  // far fewer than the 81 configurations
}

TEST(Strategy, CoordinateDescentIgnoresNoiseSizedImprovements) {
  auto ps = space_of({{"X", {1, 2, 4, 8}}});
  auto space = SearchSpace::build(ps).value_or_throw();
  CoordinateDescentOptions options;
  options.start = {{"X", 1}};
  auto s = make_coordinate_descent(space, options);
  // Each step is 0.05 % faster: below the 0.1 % threshold, so the descent must not move.
  auto [n, best] = drive(*s, [](const Config& c) { return 1000.0 - 0.5 * std::log2(value(c, "X")); });
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(best, (Config{{"X", 2}}));  // measured, slightly faster, but not moved to
}

TEST(Strategy, PairMovesCrossAConstraintCoupling) {
  // Threads = BM / TM must stay 16: moving BM or TM alone is always invalid, together it is not.
  auto ps = space_of({{"BM", {32, 64, 128, 256}}, {"TM", {2, 4, 8, 16}}}, {"BM / TM == 16"});
  auto space = SearchSpace::build(ps).value_or_throw();
  CoordinateDescentOptions options;
  options.start = {{"BM", 32}, {"TM", 2}};
  auto cost = [](const Config& c) { return 1000.0 / value(c, "BM"); };  // bigger tiles are faster
  auto with = make_coordinate_descent(space, options);
  EXPECT_EQ(drive(*with, cost).second, (Config{{"BM", 256}, {"TM", 16}}));
  options.pair_moves = false;
  auto without = make_coordinate_descent(space, options);
  EXPECT_EQ(drive(*without, cost).second, (Config{{"BM", 32}, {"TM", 2}}));
}

TEST(Strategy, FailedConfigurationsNeverWin) {
  auto ps = space_of({{"X", {1, 2, 4, 8, 16}}});
  auto space = SearchSpace::build(ps).value_or_throw();
  CoordinateDescentOptions options;
  options.start = {{"X", 1}};
  auto s = make_coordinate_descent(space, options);
  auto [n, best] = drive(*s, [](const Config& c) -> std::optional<double> {
    if (value(c, "X") == 4) return std::nullopt;  // e.g. a compile error
    return 100.0 - value(c, "X");
  });
  EXPECT_EQ(best, (Config{{"X", 2}}));  // X=4 failed, so the descent cannot pass it with single moves
  EXPECT_EQ(canonical_strategy_name("coordinate_descent"), "coordesc");
  EXPECT_FALSE(canonical_strategy_name("annealing"));
}

}  // namespace
