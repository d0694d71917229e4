#pragma once
// Best-first neighbourhood search with exploration: the default strategy (issue #15).
//
// Why not coordinate descent alone: on recorded Kernel Tuner spaces (2D convolution on an A6000 and
// an MI250X) a descent from the default stops 22-38 % short, next to the default, while the optimum
// differs in six parameters; random sampling at the same budget does better. What works on every
// recorded space (docs/benchmarks.md) is a search that never stops at the first local optimum:
//
//   - a frontier: every successful configuration is a candidate centre; each batch expands the
//     fastest centres not expanded yet (all their single-parameter neighbours, SearchSpace::neighbours,
//     so every proposal is valid). When the best's neighbourhood is spent, the next-best's is searched:
//     a plateau or a ridge is walked along instead of ending the search;
//   - exploration: a share of every batch is uniform samples of the valid space (a larger share at
//     first), so another basin can be found at any time;
//   - kicks (basin hopping): a share of every batch changes 2-3 parameters of one of the best few
//     configurations to other listed values, kept only if valid.
//
// Batches are `width` wide (16 by default, wider at the start) so the compile pool and the GPU stay
// busy. The search stops at its budget: the caller's (spent whole), else max(400, 2 % of the valid
// space), or earlier when the best has not improved for a quarter of that (and 2 batches): on the
// recorded spaces that halves the cost of a search left to stop by itself (SGEMM 228 configurations:
// ~170 → ~110) at the same quality.
#include <cstdint>
#include <memory>

#include "tuner/strategy.hpp"

namespace ktune {

struct BestFirstOptions {
  Config start;                 // the best known point (lookup answer or default); invalid = none
  std::size_t budget = 0;       // evaluations; 0 = max(400, 2 % of the valid space)
  std::size_t width = 16;       // configurations per batch after the first
  double explore = 0.2;         // share of each batch drawn uniformly from the valid space
  double kick = 0.15;           // share of each batch that perturbs one of the best few
  std::size_t first_batch = 0;  // 0 = clamp(budget / 10, width, 4 * width): the initial uniform sample
  double min_improvement = 0.001;  // smaller improvements do not reset the stagnation count
  std::uint64_t seed = 1;
};

std::unique_ptr<Strategy> make_best_first(const SearchSpace& space, BestFirstOptions options);

}  // namespace ktune
