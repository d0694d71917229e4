#pragma once
// Which runs of a sweep go where when it is spread beyond one host (docs/sweep.md): a job array's
// task takes a fixed share (`ktune sweep --shard K/N`), and an MPI sweep hands runs out longest
// first. Both decide from the plan alone — the sweep file and the specs it names — so every
// machine that reads the same files computes the same shares, with no coordination.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/common/result.hpp"
#include "engine/sweep.hpp"

namespace ktune {

// Task `index` (0-based) of `count`.
struct SweepShard {
  std::size_t index = 0;
  std::size_t count = 1;
};

// "K/N" with 1 <= K <= N (K counts from 1, as $SLURM_ARRAY_TASK_ID does with --array=1-N; a
// 0-based task index is K+1). Errc::invalid_argument naming the problem otherwise.
Result<SweepShard> parse_shard(std::string_view text);

// What each run of the plan (in plan order: items, then size sets) is expected to cost: the
// configurations it may evaluate — the valid configurations at its sizes, capped by its budget.
// A size set whose space cannot be built costs 1 (it fails fast when tuned).
std::vector<std::uint64_t> estimate_run_costs(const SweepPlan& plan);

// Plan-order indexes of the runs, longest (by `costs`) first; equal costs in plan order.
std::vector<std::size_t> longest_first(const std::vector<std::uint64_t>& costs);

// The plan-order indexes of the runs of `shard`, in plan order. Runs are dealt longest first to
// whichever shard has the least estimated work so far (the lowest index on a tie), so the shards'
// totals differ by at most one run's cost, and every run is in exactly one shard.
std::vector<std::size_t> shard_runs(const std::vector<std::uint64_t>& costs, SweepShard shard);

}  // namespace ktune
