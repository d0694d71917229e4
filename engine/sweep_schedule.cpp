#include "engine/sweep_schedule.hpp"

#include <algorithm>
#include <charconv>
#include <numeric>
#include <optional>
#include <string>

#include "tuner/search_space.hpp"

namespace ktune {

namespace {

std::optional<std::size_t> parse_count(std::string_view text) {
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

Result<SweepShard> parse_shard(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return make_error(Errc::invalid_argument, "--shard " + quoted + ": expected K/N, e.g. 2/8 (task 2 of 8)");
  const auto k = parse_count(text.substr(0, slash));
  const auto n = parse_count(text.substr(slash + 1));
  if (!k || !n) return make_error(Errc::invalid_argument, "--shard " + quoted + ": K and N must be whole numbers, e.g. 2/8");
  if (*n == 0) return make_error(Errc::invalid_argument, "--shard " + quoted + ": N must be at least 1");
  if (*k == 0 || *k > *n)
    return make_error(Errc::invalid_argument,
                      "--shard " + quoted + ": K counts from 1 to N (" + std::to_string(*n) + "); with a 0-based task index pass K+1");
  return SweepShard{*k - 1, *n};
}

std::vector<std::uint64_t> estimate_run_costs(const SweepPlan& plan) {
  std::vector<std::uint64_t> costs;
  for (const SweepItem& item : plan.items)
    for (const Sizes& sizes : item.sizes) {
      auto space = SearchSpace::build(item.spec.space, &sizes);
      std::uint64_t cost = space ? std::max<std::uint64_t>(1, space->valid_count()) : 1;
      if (item.budget) cost = std::min<std::uint64_t>(cost, item.budget);
      costs.push_back(cost);
    }
  return costs;
}

std::vector<std::size_t> longest_first(const std::vector<std::uint64_t>& costs) {
  std::vector<std::size_t> order(costs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  return order;
}

std::vector<std::size_t> shard_runs(const std::vector<std::uint64_t>& costs, SweepShard shard) {
  std::vector<std::uint64_t> load(shard.count, 0);
  std::vector<std::size_t> mine;
  for (std::size_t run : longest_first(costs)) {
    const auto least = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[least] += costs[run];
    if (least == shard.index) mine.push_back(run);
  }
  std::sort(mine.begin(), mine.end());
  return mine;
}

}  // namespace ktune
