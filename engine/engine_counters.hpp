#pragma once
// What an Engine has done, for a compiler's logs (the seeds' compile counters): compiles through
// its pool (tunings' and binary()'s alike), time its callers spent blocked, tunings run or answered
// from the lookup table, and what it holds right now. Engine::counters(), ktune_engine_counters,
// `ktune doctor`.
#include <cstddef>
#include <cstdint>

namespace ktune {

struct EngineCounters {
  std::uint64_t compiles_started = 0;     // submitted to the compile pool (cache hits included)
  std::uint64_t compiles_finished = 0;    // results delivered, failures and cache hits included
  std::uint64_t compiles_failed = 0;      // finished without a cubin (compile error, timeout, crash, ...)
  std::uint64_t compiles_from_cache = 0;  // answered by the cubin cache, no worker involved
  double wait_seconds = 0;                // callers blocked in tune, measure, binary, wait_ready
  std::uint64_t tunings_run = 0;          // tune requests that ran a search
  std::uint64_t tunings_from_table = 0;   // tune requests answered by an exact lookup-table entry
  std::uint64_t lookups = 0;              // lookup calls answered (any rule)
  std::size_t workers_alive = 0;          // compile worker processes running now
  bool runner_alive = false;              // the GPU runner process is running now
};

}  // namespace ktune
