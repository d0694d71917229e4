#pragma once
// `mpirun -n N ktune sweep SWEEP.json --db DB` (docs/sweep.md, "On a cluster"): every rank tunes
// into a store of its own (a temporary folder on its host: never one SQLite file shared over a
// network filesystem), rank 0 hands out runs as ranks ask for work, longest first, and merges each
// finished run's records into DB as they arrive (one transaction each, with import's conflict
// policy), so a job killed half-way loses no finished run that reached rank 0, and the same
// command resumes it. Rank 0 tunes too, on a thread of its own: N ranks, N lanes.
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "engine/store_file.hpp"
#include "engine/sweep_runner.hpp"
#include "tools/mpi/mpi_world.hpp"

namespace ktune::cli {

struct MpiSweepOptions {
  // How every rank tunes: a recording, or GPUs — a rank takes one of `gpus`, by its place among
  // the ranks of its host. `store_path` is DB (rank 0's); the ranks' own stores are temporary.
  SweepOptions lanes;
  std::vector<std::size_t> runs;  // plan-order indexes of the runs to tune
  bool force = false;
  ConflictPolicy on_conflict = ConflictPolicy::keep_faster;
  // Rank 0 only, on its calling thread: once its own lane is up (its devices; DB's path), and per
  // finished run, after its records are in DB.
  std::function<void(const SweepRunner& lane, const std::filesystem::path& db)> on_ready;
  std::function<void(const SweepRun&, std::size_t finished, std::size_t total)> on_run_done;
};

// Rank 0: every run of options.runs, in plan order (SweepRun::lane is the rank that tuned it).
// Other ranks: nullopt, when rank 0 has no more work. A rank that cannot take part (no GPU, a store
// that cannot be written) ends the whole job with MPI_Abort and one line saying why.
std::optional<SweepResult> run_mpi_sweep(MpiWorld& world, const SweepPlan& plan, const MpiSweepOptions& options);

}  // namespace ktune::cli
