// Sample statistics and the stopping rule of a measurement.
#include <gtest/gtest.h>

#include "engine/runner/statistics.hpp"

using namespace ktune::runner;

TEST(BenchStatistics, Summary) {
  std::vector<double> s{10, 12, 11, 13, 14};
  SampleStats st = summarize(s);
  EXPECT_EQ(st.samples, 5u);
  EXPECT_DOUBLE_EQ(st.median_ns, 12);
  EXPECT_DOUBLE_EQ(st.min_ns, 10);
  EXPECT_DOUBLE_EQ(st.mean_ns, 12);
  EXPECT_NEAR(st.stddev_ns, 1.5811, 1e-4);
  EXPECT_NEAR(st.noise, 1.5811 / 12, 1e-4);
  EXPECT_DOUBLE_EQ(summarize(std::vector<double>{4, 1, 3, 2}).median_ns, 2.5);
  EXPECT_EQ(summarize({}).samples, 0u);
}

TEST(BenchStatistics, StopsWhenQuietAfterMinimumSamples) {
  StopRule rule;
  std::vector<double> quiet(9, 1000.0);
  EXPECT_EQ(decide(quiet, 0.001, rule, std::nullopt), StopDecision::keep_going);  // 9 < min_samples
  quiet.push_back(1000.0);
  EXPECT_EQ(decide(quiet, 0.001, rule, std::nullopt), StopDecision::converged);
}

TEST(BenchStatistics, NoisySamplesRunUntilTheBudget) {
  StopRule rule;
  std::vector<double> noisy;
  for (int i = 0; i < 20; ++i) noisy.push_back(i % 2 ? 1000.0 : 1100.0);  // the median's error: 2 %
  const double budget = rule.budget_for(1050.0);  // floor + 15 kernel times
  EXPECT_DOUBLE_EQ(budget, rule.budget_floor_seconds + 15 * 1050e-9);
  EXPECT_EQ(decide(noisy, 0.9 * budget, rule, std::nullopt), StopDecision::keep_going);
  EXPECT_EQ(decide(noisy, budget, rule, std::nullopt), StopDecision::budget_spent);
  noisy.resize(rule.max_samples, 1000.0);
  noisy[0] = 5000;
  EXPECT_EQ(decide(noisy, 0.1, rule, std::nullopt), StopDecision::max_samples);
}

TEST(BenchStatistics, SlowKernelsStopAfterAFewSamplesPastTheBudget) {
  StopRule rule;
  std::vector<double> slow{1e9, 1.1e9, 1.2e9};
  EXPECT_EQ(decide(slow, 1.0, rule, std::nullopt), StopDecision::keep_going);
  EXPECT_EQ(decide(slow, 2.5, rule, std::nullopt), StopDecision::budget_spent);
}

TEST(BenchStatistics, HopelessConfigurationsArePruned) {
  StopRule rule;
  std::vector<double> samples{3000, 3100};
  EXPECT_EQ(decide(samples, 0.01, rule, 1000.0), StopDecision::keep_going);  // fewer than prune_after
  samples.push_back(3050);
  EXPECT_EQ(decide(samples, 0.01, rule, 1000.0), StopDecision::pruned);
  std::vector<double> close{1400, 1450, 1420};
  EXPECT_EQ(decide(close, 0.001, rule, 1000.0), StopDecision::keep_going);  // could still win: not pruned
}
