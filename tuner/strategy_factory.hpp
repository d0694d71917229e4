#pragma once
// The one place a strategy is chosen by name: the engine, replay, sweeps and the CLI all call
// make_strategy, so they cannot disagree on names or on where a search starts.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.hpp"
#include "tuner/strategy.hpp"

namespace ktune {

enum class StrategyKind : std::uint8_t { exhaustive, random, coordinate_descent, best_first };

// "exhaustive", "random", "coordesc" (also "coordinate_descent", "coordinate-descent"), "bestfirst"
// (also "best_first", "best-first"; tuner/best_first_search.hpp).
std::optional<StrategyKind> parse_strategy_kind(std::string_view name) noexcept;
std::string_view strategy_kind_name(StrategyKind kind) noexcept;  // the canonical name
// The list users see in messages: "exhaustive, random, coordesc or bestfirst".
std::string_view strategy_names() noexcept;
// Every canonical name, comma-separated ("exhaustive,random,coordesc"), for benchmarks and help.
std::string_view all_strategy_names() noexcept;

struct StrategyOptions {
  // Where a local search starts, best first: the first one that is valid in the space wins (the
  // engine passes the lookup table's nearest answer, then the spec's default). Exhaustive and
  // random ignore it.
  std::vector<Config> start_candidates;
  std::size_t random_count = 64;  // random: configurations tried
  std::size_t random_starts = 0;  // coordesc: random configurations tried besides the start point
  std::uint64_t seed = 1;
  // The caller's evaluation budget (TuneLimits::max_evaluations; 0 = none). Strategies that plan
  // their effort (how much to explore before refining) plan for it; the session enforces it.
  std::size_t budget = 0;
};

// Errc::invalid_argument naming the known strategies for an unknown name.
Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const SearchSpace& space, const StrategyOptions& options);
std::unique_ptr<Strategy> make_strategy(StrategyKind kind, const SearchSpace& space, const StrategyOptions& options);

}  // namespace ktune
