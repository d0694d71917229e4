// Enumeration, counting, sampling and neighbours of constrained parameter spaces.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tuner/search_space.hpp"

namespace {

using ktune::Config;
using ktune::ParamSpace;
using ktune::SearchSpace;

ParamSpace make_space(std::vector<ktune::Parameter> params, std::vector<std::string> constraints,
                      std::vector<std::string> sizes = {}) {
  ParamSpace space;
  space.params = std::move(params);
  space.size_names = std::move(sizes);
  for (const auto& text : constraints) {
    auto expr = ktune::Expr::parse(text, space.resolver()).value_or_throw();
    bool uses_sizes = false;
    for (int s : expr.slots_used()) uses_sizes = uses_sizes || s >= static_cast<int>(space.params.size());
    space.constraints.push_back({std::move(expr), uses_sizes});
  }
  return space;
}

ParamSpace sgemm_space() {
  return make_space({{"BM", {32, 64, 128}}, {"BN", {32, 64, 128}}, {"BK", {8, 16, 32}}, {"TM", {2, 4, 8}}, {"TN", {2, 4, 8}}},
                    {"BM % TM == 0", "BN % TN == 0", "(BM / TM) * (BN / TN) <= 1024", "(BM + BN) * BK * 4 <= 49152",
                     "(BM / TM) * (BN / TN) >= 64"});
}

TEST(SearchSpace, CountsMatchBruteForce) {
  ParamSpace space = sgemm_space();
  auto built = SearchSpace::build(space);
  ASSERT_TRUE(built.ok()) << built.error().message;
  std::uint64_t expected = 0;
  for (int bm : {32, 64, 128})
    for (int bn : {32, 64, 128})
      for (int bk : {8, 16, 32})
        for (int tm : {2, 4, 8})
          for (int tn : {2, 4, 8}) {
            int threads = (bm / tm) * (bn / tn);
            if (bm % tm == 0 && bn % tn == 0 && threads <= 1024 && (bm + bn) * bk * 4 <= 49152 && threads >= 64)
              ++expected;
          }
  EXPECT_EQ(built->product(), 243u);
  EXPECT_EQ(built->valid_count(), expected);
  std::uint64_t rejected = 0;
  for (auto r : built->first_rejections()) rejected += r;
  EXPECT_EQ(rejected + built->valid_count(), built->product());
  for (std::uint64_t i = 0; i < built->valid_count(); ++i) {
    Config c = built->config_at(i);
    EXPECT_TRUE(built->is_valid(c));
    EXPECT_FALSE(built->why_invalid(c));
  }
}

TEST(SearchSpace, EnumerationOrderIsNestedLoopsInSpecOrder) {
  ParamSpace space = make_space({{"A", {1, 2}}, {"B", {10, 20, 30}}}, {});
  auto built = SearchSpace::build(space).value_or_throw();
  EXPECT_EQ(built.config_at(0), (Config{{"A", 1}, {"B", 10}}));
  EXPECT_EQ(built.config_at(1), (Config{{"A", 1}, {"B", 20}}));
  EXPECT_EQ(built.config_at(3), (Config{{"A", 2}, {"B", 10}}));
  EXPECT_EQ(built.product_index_of({{"A", 2}, {"B", 30}}), 5u);
  EXPECT_FALSE(built.product_index_of({{"A", 3}, {"B", 30}}));
  EXPECT_THROW(built.config_at(6), std::out_of_range);
}

TEST(SearchSpace, WhyInvalidExplains) {
  ParamSpace space = sgemm_space();
  auto built = SearchSpace::build(space).value_or_throw();
  EXPECT_EQ(built.why_invalid({{"BM", 48}, {"BN", 32}, {"BK", 8}, {"TM", 2}, {"TN", 2}}),
            "BM=48 is not one of 32, 64, 128");
  EXPECT_EQ(built.why_invalid({{"BM", 32}, {"BN", 32}, {"BK", 8}, {"TM", 8}, {"TN", 8}}),
            "constraint \"(BM / TM) * (BN / TN) >= 64\" is false");
  EXPECT_EQ(built.why_invalid({{"BM", 32}}), "no value for BN");
  EXPECT_EQ(built.why_invalid({{"XX", 1}}), "XX is not a parameter of this kernel");
}

TEST(SearchSpace, NeighboursArePowerOfTwoStepsSkippingInvalid) {
  ParamSpace space = sgemm_space();
  auto built = SearchSpace::build(space).value_or_throw();
  Config start{{"BM", 64}, {"BN", 64}, {"BK", 16}, {"TM", 4}, {"TN", 4}};
  auto neighbours = built.neighbours(start);
  std::set<Config> got(neighbours.begin(), neighbours.end());
  auto with = [&](const char* name, std::int64_t value) {
    Config c = start;
    for (auto& [k, v] : c)
      if (k == name) v = value;
    return c;
  };
  // BM/2=32 with TM=4 gives 8*16=128 threads: valid. TM x2 = 8 gives 8*16 = 128: valid.
  std::set<Config> expected{with("BM", 32), with("BM", 128), with("BN", 32), with("BN", 128), with("BK", 8),
                            with("BK", 32), with("TM", 2),  with("TM", 8),   with("TN", 2),  with("TN", 8)};
  EXPECT_EQ(got, expected);
  for (const auto& n : neighbours) EXPECT_TRUE(built.is_valid(n));

  // From a corner where the next value is invalid, the search skips to the next valid one.
  ParamSpace gap = make_space({{"X", {1, 2, 3, 4, 5}}}, {"X != 2 && X != 3"});
  auto gapped = SearchSpace::build(gap).value_or_throw();
  auto from_one = gapped.neighbours({{"X", 1}});
  ASSERT_EQ(from_one.size(), 1u);
  EXPECT_EQ(from_one[0], (Config{{"X", 4}}));
}

TEST(SearchSpace, SamplesAreDistinctValidAndDeterministic) {
  ParamSpace space = sgemm_space();
  auto built = SearchSpace::build(space).value_or_throw();
  auto a = built.sample(20, 42);
  auto b = built.sample(20, 42);
  auto c = built.sample(20, 43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<Config> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), 20u);
  for (const auto& config : a) EXPECT_TRUE(built.is_valid(config));
  EXPECT_EQ(built.sample(100000, 1).size(), built.valid_count());
}

TEST(SearchSpace, SamplingIsUniform) {
  ParamSpace space = make_space({{"X", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}}, {"X % 3 != 0"});  // 6 valid
  auto built = SearchSpace::build(space).value_or_throw();
  std::map<std::int64_t, int> hits;
  const int draws = 6000;
  for (int seed = 0; seed < draws; ++seed) hits[built.sample(1, static_cast<std::uint64_t>(seed))[0][0].second]++;
  ASSERT_EQ(hits.size(), 6u);
  for (const auto& [value, count] : hits) {
    EXPECT_NE(value % 3, 0);
    EXPECT_NEAR(count, draws / 6, 150) << "value " << value;  // > 4 sigma
  }
}

TEST(SearchSpace, SizeConstraintsApplyOnlyWithSizes) {
  ParamSpace space = make_space({{"TB", {64, 128, 256}}}, {"TB <= n"}, {"n"});
  auto without = SearchSpace::build(space).value_or_throw();
  EXPECT_FALSE(without.sizes_applied());
  EXPECT_EQ(without.valid_count(), 3u);
  ktune::Sizes sizes{{"n", 100}};
  auto with = SearchSpace::build(space, &sizes).value_or_throw();
  EXPECT_TRUE(with.sizes_applied());
  EXPECT_EQ(with.valid_count(), 1u);
  ktune::Sizes missing{};
  auto error = SearchSpace::build(space, &missing);
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().message, "missing size n");
}

TEST(SearchSpace, EvaluationFailuresRejectWithReason) {
  ParamSpace space = make_space({{"A", {0, 1, 2}}}, {"10 / A >= 5"});
  auto built = SearchSpace::build(space).value_or_throw();
  EXPECT_EQ(built.valid_count(), 2u);
  EXPECT_EQ(built.evaluation_failures(), 1u);
  EXPECT_EQ(built.why_invalid({{"A", 0}}), "constraint \"10 / A >= 5\" cannot be evaluated: division by zero");
}

TEST(SearchSpace, EmptySpaceIsAnErrorNamingTheConstraint) {
  ParamSpace space = make_space({{"A", {1, 2}}, {"B", {1, 2}}}, {"A + B > 2", "A + B < 4"});
  auto built = SearchSpace::build(space);
  ASSERT_TRUE(built.ok());
  ParamSpace impossible = make_space({{"A", {1, 2}}, {"B", {1, 2}}}, {"A + B > 3", "A + B < 4"});
  auto none = SearchSpace::build(impossible);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no configuration satisfies all constraints together"), std::string::npos);
  ParamSpace alone = make_space({{"A", {1, 2}}}, {"A > 5"});
  EXPECT_NE(SearchSpace::build(alone).error().message.find("\"A > 5\" is not satisfied by any configuration"),
            std::string::npos);
}

TEST(SearchSpace, TenMillionConfigurationsFilteredKeepingOnlyValid) {
  std::vector<ktune::Parameter> params;
  for (int p = 0; p < 7; ++p) params.push_back({"p" + std::to_string(p), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}});
  ParamSpace space = make_space(params, {"p0 + p1 + p2 + p3 + p4 + p5 + p6 <= 12"});
  auto built = SearchSpace::build(space).value_or_throw();
  EXPECT_EQ(built.product(), 10'000'000u);
  // Count 7-digit tuples with digit sum <= 12 by dynamic programming.
  std::vector<std::uint64_t> ways(64, 0);
  ways[0] = 1;
  for (int p = 0; p < 7; ++p) {
    std::vector<std::uint64_t> next(64, 0);
    for (int s = 0; s < 64; ++s)
      for (int d = 0; d < 10 && s + d < 64; ++d) next[static_cast<std::size_t>(s + d)] += ways[static_cast<std::size_t>(s)];
    ways = next;
  }
  std::uint64_t expected = 0;
  for (int s = 0; s <= 12; ++s) expected += ways[static_cast<std::size_t>(s)];
  EXPECT_EQ(built.valid_count(), expected);
  EXPECT_EQ(built.first_rejections()[0], 10'000'000u - expected);
}

TEST(SearchSpace, RefusesSpacesAboveTheEnumerationLimit) {
  std::vector<ktune::Parameter> params;
  for (int p = 0; p < 10; ++p) params.push_back({"p" + std::to_string(p), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}});
  ParamSpace space = make_space(params, {});
  auto built = SearchSpace::build(space, nullptr, {.max_product = 1'000'000});
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().code, ktune::Errc::unsupported);
  EXPECT_NE(built.error().message.find("10000000000 configurations"), std::string::npos);
}

}  // namespace
