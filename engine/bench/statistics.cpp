#include "engine/bench/statistics.hpp"

#include <algorithm>
#include <cmath>

namespace ktune::bench {

SampleStats summarize(std::span<const double> samples_ns) {
  SampleStats s;
  s.samples = samples_ns.size();
  if (samples_ns.empty()) return s;
  std::vector<double> sorted(samples_ns.begin(), samples_ns.end());
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  s.min_ns = sorted.front();
  s.median_ns = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  double sum = 0;
  for (double x : sorted) sum += x;
  s.mean_ns = sum / static_cast<double>(n);
  double squares = 0;
  for (double x : sorted) squares += (x - s.mean_ns) * (x - s.mean_ns);
  s.stddev_ns = n > 1 ? std::sqrt(squares / static_cast<double>(n - 1)) : 0.0;
  s.noise = s.mean_ns > 0 ? s.stddev_ns / s.mean_ns : 0.0;
  return s;
}

const char* stop_decision_name(StopDecision decision) noexcept {
  switch (decision) {
    case StopDecision::keep_going: return "keep_going";
    case StopDecision::converged: return "converged";
    case StopDecision::budget_spent: return "budget_spent";
    case StopDecision::max_samples: return "max_samples";
    case StopDecision::pruned: return "pruned";
  }
  return "unknown";
}

StopDecision decide(std::span<const double> samples_ns, double elapsed_seconds, const StopRule& rule,
                    std::optional<double> best_median_ns) {
  const std::size_t n = samples_ns.size();
  if (best_median_ns && n >= rule.prune_after && n > 0) {
    // The fastest sample is an optimistic estimate; if even it is far behind, more samples
    // cannot make this configuration win.
    double fastest = *std::min_element(samples_ns.begin(), samples_ns.end());
    if (fastest > rule.prune_factor * *best_median_ns) return StopDecision::pruned;
  }
  if (n >= rule.max_samples) return StopDecision::max_samples;
  if (n >= rule.min_samples && summarize(samples_ns).noise <= rule.max_noise) return StopDecision::converged;
  if (n >= rule.min_samples && elapsed_seconds >= rule.budget_seconds) return StopDecision::budget_spent;
  // Never let a slow kernel run for long past the budget just to reach min_samples.
  if (n >= 3 && elapsed_seconds >= 4 * rule.budget_seconds) return StopDecision::budget_spent;
  return StopDecision::keep_going;
}

}  // namespace ktune::bench
