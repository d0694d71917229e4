#include "tuner/strategy_factory.hpp"

#include "tuner/best_first_search.hpp"

namespace ktune {

std::optional<StrategyKind> parse_strategy_kind(std::string_view name) noexcept {
  if (name == "exhaustive") return StrategyKind::exhaustive;
  if (name == "random") return StrategyKind::random;
  if (name == "coordesc" || name == "coordinate_descent" || name == "coordinate-descent") return StrategyKind::coordinate_descent;
  if (name == "bestfirst" || name == "best_first" || name == "best-first") return StrategyKind::best_first;
  return std::nullopt;
}

std::string_view strategy_kind_name(StrategyKind kind) noexcept {
  switch (kind) {
    case StrategyKind::exhaustive: return "exhaustive";
    case StrategyKind::random: return "random";
    case StrategyKind::coordinate_descent: return "coordesc";
    case StrategyKind::best_first: return "bestfirst";
  }
  return "coordesc";
}

std::string_view strategy_names() noexcept { return "exhaustive, random, coordesc or bestfirst"; }
std::string_view all_strategy_names() noexcept { return "exhaustive,random,coordesc,bestfirst"; }

std::optional<std::string> canonical_strategy_name(const std::string& name) {
  if (auto kind = parse_strategy_kind(name)) return std::string(strategy_kind_name(*kind));
  return std::nullopt;
}

namespace {
// Where a local search starts: the best known point that is valid here (none: an empty config,
// which the strategies treat as "no start point").
Config first_valid(const SearchSpace& space, const std::vector<Config>& candidates) {
  for (const auto& candidate : candidates)
    if (space.is_valid(candidate)) return candidate;
  return {};
}
}  // namespace

std::unique_ptr<Strategy> make_strategy(StrategyKind kind, const SearchSpace& space, const StrategyOptions& options) {
  switch (kind) {
    case StrategyKind::exhaustive: return make_exhaustive(space);
    case StrategyKind::random: return make_random(space, options.random_count, options.seed);
    case StrategyKind::coordinate_descent: break;
    case StrategyKind::best_first: {
      BestFirstOptions bf;
      bf.start = first_valid(space, options.start_candidates);
      bf.budget = options.budget;
      bf.seed = options.seed;
      return make_best_first(space, std::move(bf));
    }
  }
  CoordinateDescentOptions cd;
  cd.start = first_valid(space, options.start_candidates);
  cd.random_starts = options.random_starts;
  cd.seed = options.seed;
  return make_coordinate_descent(space, cd);
}

Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const SearchSpace& space, const StrategyOptions& options) {
  auto kind = parse_strategy_kind(name);
  if (!kind) return make_error(Errc::invalid_argument, "unknown strategy '" + std::string(name) + "' (" + std::string(strategy_names()) + ")");
  return make_strategy(*kind, space, options);
}

}  // namespace ktune
