// Merging of identical tune requests (engine/in_flight_requests.hpp, what Engine::tune_async does):
// requests that differ in anything that changes the tuning — here only the stop rule — are not
// merged; every waiter of a merged request hears the progress and the evaluations.
#include <gtest/gtest.h>

#include <thread>

#include "engine/in_flight_requests.hpp"

namespace {

using namespace ktune;

TuneRequest sgemm_request() {
  TuneRequest r;
  r.kernel_key = "0123456789abcdef0123456789abcdef";
  r.sizes = {{"M", 512}, {"N", 512}, {"K", 512}};
  return r;
}

TEST(InFlightRequests, RequestsThatDifferOnlyInTheStopRuleAreNotMerged) {
  InFlightRequests in_flight;
  TuneRequest a = sgemm_request(), b = sgemm_request();
  b.settings.rule.max_standard_error = 0.02;
  auto first = in_flight.join(a, {});
  auto second = in_flight.join(b, {});
  EXPECT_TRUE(first.promise) << "the first request must run";
  EXPECT_TRUE(second.promise) << "a request with another stop rule was merged with the first";
  EXPECT_EQ(in_flight.pending().size(), 2u);
  // And the finalist count, the seed, the strategy: each its own tuning too.
  TuneRequest c = sgemm_request();
  c.settings.limits.finalists = 5;
  EXPECT_TRUE(in_flight.join(c, {}).promise);
  TuneRequest d = sgemm_request();
  d.settings.seed = 7;
  EXPECT_TRUE(in_flight.join(d, {}).promise);
}

TEST(InFlightRequests, AnIdenticalRequestJoinsAndEveryWaitersHooksFire) {
  InFlightRequests in_flight;
  std::vector<std::string> heard;
  std::mutex heard_mutex;
  auto hooks_for = [&](std::string who) {
    TuneHooks h;
    h.on_progress = [&, who](const TuneProgress& p) {
      std::lock_guard lock(heard_mutex);
      heard.push_back(who + " progress " + std::to_string(p.evaluated));
    };
    h.on_evaluation = [&, who](const Evaluation& e) {
      std::lock_guard lock(heard_mutex);
      heard.push_back(who + " evaluation " + format_named(e.measurement.config));
    };
    return h;
  };
  auto first = in_flight.join(sgemm_request(), hooks_for("a"));
  ASSERT_TRUE(first.promise);
  auto second = in_flight.join(sgemm_request(), hooks_for("b"));
  EXPECT_FALSE(second.promise) << "an identical request started a second tuning";
  EXPECT_EQ(in_flight.pending().size(), 1u);

  // The tuning calls the hooks it was given at its start; a waiter that joined is heard too.
  std::thread tuning([&, hooks = first.hooks, promise = first.promise] {
    TuneProgress progress;
    progress.evaluated = 1;
    Evaluation e;
    e.measurement.config = {{"BM", 64}};
    hooks.on_evaluation(e);
    hooks.on_progress(progress);
    TuneOutcome outcome;
    outcome.report.best = {{"BM", 64}};
    in_flight.finish(sgemm_request(), *promise, outcome);
  });
  tuning.join();
  ASSERT_TRUE(first.future.get().ok());
  ASSERT_TRUE(second.future.get().ok());
  EXPECT_EQ(second.future.get()->report.best, (Config{{"BM", 64}}));
  std::sort(heard.begin(), heard.end());
  EXPECT_EQ(heard, (std::vector<std::string>{"a evaluation BM=64", "a progress 1", "b evaluation BM=64", "b progress 1"}));
  // Finished: the next identical request tunes anew.
  EXPECT_TRUE(in_flight.pending().empty());
  EXPECT_TRUE(in_flight.join(sgemm_request(), {}).promise);
}

}  // namespace
