#include "engine/runner/statistics.hpp"

#include <algorithm>
#include <cmath>

#include "engine/runner/criteria/criterion.hpp"

namespace ktune::runner {

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
  if (n > 1) {
    // The distribution-free 95 % interval of the median runs between the order statistics
    // n/2 ± 1.96 √n / 2; a quarter of its width estimates the standard error.
    const double half_width = 1.96 * std::sqrt(static_cast<double>(n)) / 2;
    const double half = static_cast<double>(n) / 2;
    const auto lo = static_cast<std::size_t>(std::max(0.0, std::floor(half - half_width)));
    const auto hi = std::min(n - 1, static_cast<std::size_t>(std::max(1.0, std::ceil(half + half_width))) - 1);
    s.median_se_ns = (sorted[hi] - sorted[lo]) / (2 * 1.96);
  }
  return s;
}

const char* stop_decision_name(StopDecision decision) noexcept {
  switch (decision) {
    case StopDecision::keep_going: return "keep_going";
    case StopDecision::converged: return "converged";
    case StopDecision::budget_spent: return "budget_spent";
    case StopDecision::max_samples: return "max_samples";
    case StopDecision::pruned: return "pruned";
    case StopDecision::outranked: return "outranked";
  }
  return "unknown";
}

StopDecision decide(std::span<const double> samples_ns, double elapsed_seconds, const StopRule& rule,
                    std::optional<double> best_median_ns) {
  // The criteria the runner samples with, fed a recorded stream at once.
  Criteria criteria = make_criteria(rule, best_median_ns);
  for (double x : samples_ns)
    for (auto& c : criteria) c->add_measurement(x);
  return evaluate(criteria, elapsed_seconds);
}

}  // namespace ktune::runner
