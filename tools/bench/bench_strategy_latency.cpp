// How long a strategy takes to propose its next batch on a large space (issue #15's goal: well under
// 1 ms per batch on a space of a million configurations). A synthetic cost stands in for the GPU so
// the figure is the strategy's own work; the tests check what the strategies propose, this checks
// how fast (speed goals are benchmarks, never timed unit tests).
//
//   bench_strategy_latency [--strategies a,b] [--budget 2000]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "tuner/param_space.hpp"
#include "tuner/search_space.hpp"
#include "tools/bench/comma_list.hpp"
#include "tuner/strategy_factory.hpp"

namespace {

// Six parameters of ten values under one constraint: 9.3·10⁵ valid configurations of 10⁶.
ktune::ParamSpace million_configurations() {
  ktune::ParamSpace s;
  for (const char* name : {"A", "B", "C", "D", "E", "F"}) s.params.push_back({name, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}});
  s.constraints.push_back({ktune::Expr::parse("A + B + C + D + E + F <= 50", s.resolver()).value_or_throw(), false});
  return s;
}

double value(const ktune::Config& c, const char* name) { return static_cast<double>(*ktune::find_value(c, name)); }

}  // namespace

int main(int argc, char** argv) {
  using namespace ktune;
  std::vector<std::string> strategies = bench::split_comma_list(std::string(all_strategy_names()));
  std::size_t budget = 2000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_strategy_latency: %s needs a value\n", a.c_str());
      return 2;
    }
    if (a == "--strategies") strategies = bench::split_comma_list(argv[++i]);
    else if (a == "--budget") budget = std::stoul(argv[++i]);
    else {
      std::fprintf(stderr, "bench_strategy_latency: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const auto build_start = std::chrono::steady_clock::now();
  const ParamSpace params = million_configurations();
  auto space = SearchSpace::build(params);
  if (!space) {
    std::fprintf(stderr, "bench_strategy_latency: %s\n", space.error().message.c_str());
    return 1;
  }
  std::printf("space: %zu valid configurations, built in %.1f ms\n", space->valid_count(),
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - build_start).count());
  std::printf("%-12s %8s %12s %14s %14s\n", "strategy", "batches", "proposed", "mean ms/batch", "slowest ms");
  const auto cost = [](const Config& c) { return 1.0 + std::abs(value(c, "A") - 7) + std::abs(value(c, "B") - 3) + value(c, "C"); };
  for (const auto& name : strategies) {
    StrategyOptions options;
    options.budget = budget;
    options.random_count = budget;
    auto strategy = make_strategy(name, *space, options);
    if (!strategy) {
      std::fprintf(stderr, "bench_strategy_latency: %s\n", strategy.error().message.c_str());
      return 2;
    }
    double total = 0, slowest = 0;
    std::size_t batches = 0, proposed = 0;
    while (proposed < budget) {
      const auto t0 = std::chrono::steady_clock::now();
      auto batch = (*strategy)->next_batch();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (batch.empty()) break;
      total += seconds;
      slowest = std::max(slowest, seconds);
      ++batches;
      proposed += batch.size();
      for (const auto& c : batch) (*strategy)->report(c, cost(c));
    }
    std::printf("%-12s %8zu %12zu %14.4f %14.4f\n", name.c_str(), batches, proposed, batches ? total * 1e3 / static_cast<double>(batches) : 0.0,
                slowest * 1e3);
  }
  return 0;
}
