#pragma once
// The compile pool: N ktune-worker processes (posix_spawn'ed, one job at a time each) serving any
// number of threads. submit() is thread-safe and returns a future (or calls a callback). A worker
// that crashes, hangs past the job timeout or hits its memory limit is killed and replaced; only
// its job fails (a crash is retried once on a fresh worker first). With a CubinCache, a hit never
// reaches a worker and every ok result is stored.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/common/result.hpp"
#include "workers/compile_job.hpp"
#include "workers/cubin_cache.hpp"
#include "workers/process/locate_executable.hpp"

namespace ktune::workers {

struct CompilePoolOptions {
  std::size_t workers = 0;             // 0: min(hardware threads, 32)
  std::filesystem::path worker_path;   // empty: see worker_search()
  std::chrono::milliseconds job_timeout{60'000};
  std::chrono::milliseconds startup_timeout{30'000};  // spawn to hello
  // Per worker (RLIMIT_DATA). 0: physical memory / workers, at least 2 GiB. UINT64_MAX: none.
  // Ignored where worker_memory_limit_supported() is false (sanitizer builds).
  std::uint64_t memory_limit_bytes = 0;
  // A worker idle this long exits and is started again on demand; 0 keeps workers forever.
  std::chrono::milliseconds idle_timeout{0};
  CubinCache* cache = nullptr;  // not owned; must outlive the pool
  // Where workers keep their precompiled headers (each its own sub-folder, removed when it exits;
  // workers/precompiled_headers.hpp). Empty: no PCH, jobs with use_pch compile as usual.
  std::filesystem::path pch_dir;
  // Extra environment for the workers (tests set KTUNE_WORKER_TEST_FAULTS=1 here).
  std::vector<std::pair<std::string, std::string>> environment;
};

struct CompilePoolStats {
  std::uint64_t submitted = 0;
  std::uint64_t completed = 0;    // results delivered, cache hits included
  std::uint64_t cache_hits = 0;
  std::uint64_t failed = 0;       // completed without a cubin (any status but ok)
  std::uint64_t workers_started = 0;
  std::uint64_t crashes = 0;      // worker deaths, retried ones included
  std::uint64_t timeouts = 0;
  std::uint64_t out_of_memory = 0;
  std::uint64_t retired_idle = 0;
};

// How to find ktune-worker (process::locate_executable): `explicit_path` when given; else
// $KTUNE_WORKER; else next to the running executable, next to libktune (and its ../bin), the
// install bindir and the worker of this build tree.
process::ExecutableSearch worker_search(const std::filesystem::path& explicit_path = {});

std::size_t default_worker_count();

// False in AddressSanitizer, ThreadSanitizer and MemorySanitizer builds: their runtimes reserve
// terabytes of shadow memory as private mappings at start-up, which RLIMIT_DATA counts, so a
// worker under any limit could not map another page ("ERROR: Failed to mmap"). There workers run
// without a memory limit.
bool worker_memory_limit_supported() noexcept;

class CompilePool {
 public:
  // Fails when ktune-worker cannot be found. Workers start lazily (on the first job) unless warm().
  static Result<std::unique_ptr<CompilePool>> create(CompilePoolOptions options = {});
  ~CompilePool();  // shutdown()
  CompilePool(const CompilePool&) = delete;
  CompilePool& operator=(const CompilePool&) = delete;

  std::future<CompileResult> submit(CompileJob job);
  // The callback runs on a pool thread (or the caller's, for a cache hit); it must not throw or block.
  void submit(CompileJob job, std::function<void(CompileResult)> on_done);

  void warm();  // start every worker now, without waiting
  // warm() and wait until every worker said hello; the error names a worker that could not start.
  Status wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Jobs not yet finished complete as `cancelled`; workers are told to exit, then killed, and all
  // are reaped. Idempotent; submit() after it returns `cancelled` at once.
  void shutdown();

  std::size_t size() const noexcept;
  const std::filesystem::path& worker_path() const noexcept;
  const std::string& nvrtc_version() const noexcept;  // part of every cubin key
  CompilePoolStats stats() const;
  // pids of the live workers (tests check them for zombies and orphans).
  std::vector<int> worker_pids() const;

  class Impl;

 private:
  explicit CompilePool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ktune::workers
