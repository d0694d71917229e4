// The runner's stop rule and race on real sample streams: tests/data/sample-streams-h200.jsonl
// holds every configuration of tools/bench/bench_measure_cost's space at four kernel lengths
// (≈1 µs to 1 ms), each sampled 300 times on the H200 with the L2 flushed (2026-11-29,
// KTUNE_RUNNER_SAMPLE_LOG, engine/runner/sample_log.hpp). Replayed through the criteria with a
// model of the cost per sample as the clock, the rule must stop well before the recording ends with
// a median close to the whole stream's, and the race must stop the clearly slower configurations
// early without ever stopping one that is within its margin of the best. (The ~1 µs streams drift
// by 5-10 % over their first samples: why the race leaves kernels under 5 µs alone.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/runner/criteria/criterion.hpp"
#include "engine/runner/criteria/race_criterion.hpp"
#include "engine/runner/statistics.hpp"

namespace {

using namespace ktune::runner;

struct Stream {
  std::string label;
  std::vector<double> samples_ns;
  double seconds_per_sample = 0;
  double median_ns = 0;  // of the whole recording
};

// Per sample, the runner spends the kernel's time plus an L2 flush and a launch: ~40 µs on the
// H200 (a memset over twice its 60 MB L2). The recording itself took one sample per round (its
// rounds were slower), so the replay's clock is this model rather than the recorded wall time.
constexpr double kSampleOverheadSeconds = 40e-6;

// The recorded streams, by kernel length (the recording's "kernel_length").
std::vector<std::vector<Stream>> load_groups() {
  std::ifstream in(std::string(KTUNE_SOURCE_DIR) + "/tests/data/sample-streams-h200.jsonl");
  std::vector<std::vector<Stream>> groups;
  std::string group;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    Stream s;
    s.label = j.at("label").get<std::string>();
    s.samples_ns = j.at("samples_ns").get<std::vector<double>>();
    s.median_ns = summarize(s.samples_ns).median_ns;
    s.seconds_per_sample = s.median_ns * 1e-9 + kSampleOverheadSeconds;
    const std::string length = j.at("kernel_length").get<std::string>();
    if (groups.empty() || length != group) groups.emplace_back();
    group = length;
    groups.back().push_back(std::move(s));
  }
  return groups;
}

struct Replay {
  std::size_t stopped_at = 0;  // samples taken when the criteria said stop (0: never)
  StopDecision decision = StopDecision::keep_going;
};

// Feeds the stream sample by sample, asking the criteria after each, the clock advancing by the
// recorded cost per sample.
Replay replay(const Stream& s, const StopRule& rule, std::optional<double> best_ns) {
  Criteria criteria = make_criteria(rule, best_ns);
  for (std::size_t n = 1; n <= s.samples_ns.size(); ++n) {
    for (auto& c : criteria) c->add_measurement(s.samples_ns[n - 1]);
    const StopDecision d = evaluate(criteria, static_cast<double>(n) * s.seconds_per_sample);
    if (d != StopDecision::keep_going) return {n, d};
  }
  return {};
}

}  // namespace

TEST(RecordedSampleStreams, CoverFourKernelLengthsOfTheWholeSpace) {
  const auto groups = load_groups();
  ASSERT_EQ(groups.size(), 4u);
  for (const auto& g : groups) EXPECT_EQ(g.size(), 20u);  // BLOCK x UNROLL
}

TEST(RecordedSampleStreams, TheStopRuleStopsEarlyWithAMedianCloseToTheWholeStreams) {
  const StopRule rule;
  std::size_t streams = 0, converged = 0;
  for (const auto& group : load_groups()) {
    for (const auto& s : group) {
      SCOPED_TRACE(s.label + " at " + std::to_string(s.median_ns) + " ns");
      ASSERT_EQ(s.samples_ns.size(), 300u);
      const Replay r = replay(s, rule, std::nullopt);
      ASSERT_GT(r.stopped_at, 0u) << "never stopped in " << s.samples_ns.size() << " samples";
      EXPECT_LT(r.stopped_at, s.samples_ns.size() / 2);
      const SampleStats early = summarize(std::span<const double>(s.samples_ns.data(), r.stopped_at));
      const double gap_ns = std::abs(early.median_ns - s.median_ns);
      // Kernels of microseconds and more: within 1.5 % of the 300-sample median.
      if (s.median_ns > 5e3) {
        EXPECT_LE(gap_ns / s.median_ns, 0.015) << stop_decision_name(r.decision) << " after " << r.stopped_at;
      }
      // Every kernel, down to 1.2 µs ones that drift by several percent over a recording and tick
      // in 32 ns steps: the median is where its reported error says, within 3 standard errors,
      // 1 % and one timer tick.
      EXPECT_LE(gap_ns, std::max(3 * early.median_se_ns, 0.01 * s.median_ns) + 32)
          << stop_decision_name(r.decision) << " after " << r.stopped_at << ", reported error " << early.median_se_ns;
      ++streams;
      converged += r.decision == StopDecision::converged;
    }
  }
  EXPECT_EQ(streams, 80u);
  std::printf("%zu streams, %zu converged, the rest stopped by the budget\n", streams, converged);
}

TEST(RecordedSampleStreams, TheRaceStopsClearlySlowerConfigurationsAndNeverAContender) {
  const StopRule rule;
  std::size_t slower = 0, outranked_early = 0;
  for (const auto& group : load_groups()) {
    const double best = std::min_element(group.begin(), group.end(), [](const Stream& a, const Stream& b) {
                          return a.median_ns < b.median_ns;
                        })->median_ns;
    for (const auto& s : group) {
      SCOPED_TRACE(s.label + " at " + std::to_string(s.median_ns / best) + " x the best");
      const Replay r = replay(s, rule, best);
      if (s.median_ns <= best * (1 + rule.race_margin)) {
        EXPECT_NE(r.decision, StopDecision::outranked) << "a contender was stopped after " << r.stopped_at;
        EXPECT_NE(r.decision, StopDecision::pruned);
      }
      if (s.median_ns > best * 1.05 && best >= rule.race_min_best_ns) {
        ++slower;
        outranked_early += (r.decision == StopDecision::outranked || r.decision == StopDecision::pruned) && r.stopped_at <= 10;
      }
    }
  }
  ASSERT_GT(slower, 10u);
  EXPECT_GE(static_cast<double>(outranked_early), 0.8 * static_cast<double>(slower)) << outranked_early << " of " << slower;
}
