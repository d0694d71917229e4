#pragma once
// Search strategies. A strategy proposes batches of configurations and is told how each one did;
// the engine evaluates a whole batch at once (compiles in parallel, benchmarks as compiles finish),
// so strategies think in batches: exhaustive proposes everything, coordinate descent one pass of
// neighbours at a time (Inductor evaluates neighbours one by one; we do a pass in parallel).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/named_values.hpp"
#include "tuner/search_space.hpp"

namespace ktune {

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // The next configurations to evaluate; empty when the strategy is done. Never proposes a
  // configuration it was already told about.
  virtual std::vector<Config> next_batch() = 0;
  // The outcome of a proposed configuration: its time, or nullopt when it failed (any class).
  virtual void report(const Config& config, std::optional<double> time_ns) = 0;
};

// Coordinate descent: from the start point, evaluate every single-parameter neighbour (one pass,
// in parallel) and move to the best if it is at least min_improvement faster; repeat. When no
// single move helps, try moving two parameters at once, but only pairs whose single moves were
// blocked by a constraint or nearly as good (within `pair_tolerance`): parameters that are coupled
// through a constraint (BM and TM through the thread count) can only improve together. Measured
// on recorded H100 sweeps (tests/data/h100-sgemm.db) this reaches the exhaustive best with
// 17-21 % of the evaluations where single moves alone stop 8-24 % short.
struct CoordinateDescentOptions {
  Config start;                      // the best known point: a lookup answer or the spec default
  std::size_t random_starts = 0;     // also try this many random configurations before descending
  double min_improvement = 0.001;    // accept a move only if at least 0.1 % faster
  double pair_tolerance = 0.10;      // single moves this close to the best qualify for pair moves
  bool pair_moves = true;
  std::size_t max_passes = 50;
  std::uint64_t seed = 1;
};

std::unique_ptr<Strategy> make_exhaustive(const SearchSpace& space);
std::unique_ptr<Strategy> make_random(const SearchSpace& space, std::size_t count, std::uint64_t seed);
std::unique_ptr<Strategy> make_coordinate_descent(const SearchSpace& space, CoordinateDescentOptions options);

// "exhaustive", "random", "coordesc" (also "coordinate_descent"); tuner/strategy_factory.cpp.
std::optional<std::string> canonical_strategy_name(const std::string& name);

}  // namespace ktune
