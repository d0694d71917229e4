// A compile-only soak: keeps one compile pool busy for a given time — real NVRTC compiles of
// distinct configurations, with a worker crash and a compile error mixed in now and then so that
// respawns and error paths run too — and samples, every interval, this process's resident memory
// and open descriptors and the workers' count and memory. Memory and descriptors must stay flat:
// a library that a compiler links lives for days (issue #7). Writes a CSV and prints a summary.
//
//   bench_soak_compile [--seconds 600] [--interval 10] [--workers 2] [--csv FILE]
//                      [--crash-every 50] [--error-every 37] [--worker PATH]
//
// Needs no GPU. tools/bench/soak_compile.sh builds and runs it.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "workers/compile_pool.hpp"

using namespace ktune::workers;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// A small templated kernel; each job instantiates it with its own N, so no compile repeats.
const char* kSource = R"(template <int N>
__global__ void soak(float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? x[i] : 0.0f;
#pragma unroll
  for (int k = 0; k < 8; ++k) v = v * N + k;
  if (i < n) x[i] = v;
}
)";

CompileJob make_job(std::uint64_t n, bool crash, bool error) {
  CompileJob job;
  job.source = kSource;
  if (crash) job.source += "// KTUNE_TEST_FAULT_SEGFAULT\n";
  if (error) job.source += "this is not C++;\n";
  job.name_expressions = {"soak<" + std::to_string(n % 100000 + 1) + ">"};
  job.arch = "sm_90";
  job.use_nvrtc_cache = false;
  return job;
}

std::uint64_t status_kb(const fs::path& status_file, const char* field) {
  std::ifstream in(status_file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return std::strtoull(line.c_str() + std::strlen(field), nullptr, 10);
  return 0;
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/self/fd", ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

struct Sample {
  double seconds = 0;
  std::uint64_t rss_kb = 0;
  std::size_t fds = 0;
  std::size_t workers = 0;
  std::uint64_t workers_rss_kb = 0, worker_rss_max_kb = 0;
  std::uint64_t done = 0, ok = 0, crash = 0, compile_error = 0, other = 0, started = 0;
};

}  // namespace

int main(int argc, char** argv) {
  double seconds = 600, interval = 10;
  std::size_t workers = 2;
  std::uint64_t crash_every = 50, error_every = 37;
  std::string csv_path = "soak-compile.csv", worker;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--seconds")
      seconds = std::atof(next());
    else if (arg == "--interval")
      interval = std::atof(next());
    else if (arg == "--workers")
      workers = static_cast<std::size_t>(std::atoi(next()));
    else if (arg == "--csv")
      csv_path = next();
    else if (arg == "--crash-every")
      crash_every = std::strtoull(next(), nullptr, 10);
    else if (arg == "--error-every")
      error_every = std::strtoull(next(), nullptr, 10);
    else if (arg == "--worker")
      worker = next();
    else {
      std::fprintf(stderr,
                   "usage: bench_soak_compile [--seconds 600] [--interval 10] [--workers 2] [--csv FILE]\n"
                   "                          [--crash-every 50] [--error-every 37] [--worker PATH]\n");
      return 2;
    }
  }

  CompilePoolOptions options;
  options.workers = std::max<std::size_t>(workers, 1);
  options.worker_path = worker.empty() ? fs::path(KTUNE_WORKER) : fs::path(worker);
  options.environment = {{"KTUNE_WORKER_TEST_FAULTS", "1"}};  // so the planted crashes crash
  auto pool = CompilePool::create(options).value_or_throw();
  if (auto ready = pool->wait_ready(std::chrono::seconds(60)); !ready) {
    std::fprintf(stderr, "bench_soak_compile: %s\n", ready.error().message.c_str());
    return 1;
  }

  std::mutex mutex;
  std::condition_variable cv;
  std::size_t in_flight = 0;
  std::map<CompileStatus, std::uint64_t> by_status;
  std::uint64_t done = 0;
  const std::size_t window = 2 * options.workers;  // enough queued that no worker ever idles

  std::FILE* csv = std::fopen(csv_path.c_str(), "w");
  if (csv == nullptr) {
    std::fprintf(stderr, "bench_soak_compile: cannot write %s\n", csv_path.c_str());
    return 1;
  }
  std::fprintf(csv,
               "seconds,parent_rss_kb,parent_fds,workers,workers_rss_kb,worker_rss_max_kb,compiles_done,ok,crash,"
               "compile_error,other,workers_started\n");
  std::vector<Sample> samples;
  const auto start = Clock::now();
  auto take_sample = [&] {
    Sample s;
    s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    s.rss_kb = status_kb("/proc/self/status", "VmRSS:");
    s.fds = open_descriptors();
    for (int pid : pool->worker_pids()) {
      const std::uint64_t kb = status_kb("/proc/" + std::to_string(pid) + "/status", "VmRSS:");
      if (kb == 0) continue;  // exited between the listing and the read
      ++s.workers;
      s.workers_rss_kb += kb;
      s.worker_rss_max_kb = std::max(s.worker_rss_max_kb, kb);
    }
    {
      std::lock_guard lock(mutex);
      s.done = done;
      s.ok = by_status[CompileStatus::ok];
      s.crash = by_status[CompileStatus::crash];
      s.compile_error = by_status[CompileStatus::compile_error];
      s.other = done - s.ok - s.crash - s.compile_error;
    }
    s.started = pool->stats().workers_started;
    std::fprintf(csv, "%.1f,%llu,%zu,%zu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", s.seconds,
                 static_cast<unsigned long long>(s.rss_kb), s.fds, s.workers,
                 static_cast<unsigned long long>(s.workers_rss_kb),
                 static_cast<unsigned long long>(s.worker_rss_max_kb), static_cast<unsigned long long>(s.done),
                 static_cast<unsigned long long>(s.ok), static_cast<unsigned long long>(s.crash),
                 static_cast<unsigned long long>(s.compile_error), static_cast<unsigned long long>(s.other),
                 static_cast<unsigned long long>(s.started));
    std::fflush(csv);
    std::printf(
        "%7.1f s  rss %6llu KiB  fds %3zu  workers %zu (%6llu KiB)  compiles %llu (ok %llu, crash %llu, "
        "compile_error %llu)\n",
        s.seconds, static_cast<unsigned long long>(s.rss_kb), s.fds, s.workers,
        static_cast<unsigned long long>(s.workers_rss_kb), static_cast<unsigned long long>(s.done),
        static_cast<unsigned long long>(s.ok), static_cast<unsigned long long>(s.crash),
        static_cast<unsigned long long>(s.compile_error));
    std::fflush(stdout);
    samples.push_back(s);
  };

  take_sample();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto next_sample = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
  std::uint64_t submitted = 0;
  while (Clock::now() < end) {
    {
      std::unique_lock lock(mutex);
      cv.wait_until(lock, std::min(next_sample, end), [&] { return in_flight < window; });
      while (in_flight < window) {
        ++in_flight;
        ++submitted;
        const bool crash = crash_every > 0 && submitted % crash_every == 0;
        const bool error = !crash && error_every > 0 && submitted % error_every == 0;
        lock.unlock();
        pool->submit(make_job(submitted, crash, error), [&](CompileResult r) {
          std::lock_guard inner(mutex);
          --in_flight;
          ++done;
          ++by_status[r.status];
          cv.notify_one();
        });
        lock.lock();
      }
    }
    if (Clock::now() >= next_sample) {
      take_sample();
      next_sample += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
    }
  }
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  take_sample();
  pool->shutdown();
  pool.reset();
  const std::size_t fds_after = open_descriptors();
  const std::uint64_t rss_after = status_kb("/proc/self/status", "VmRSS:");
  std::fclose(csv);

  const Sample& first = samples.front();
  // The first sample is taken before any compile; memory settles once every code path has run.
  const Sample& warm = samples.size() > 2 ? samples[1] : samples.front();
  const Sample& last = samples.back();
  std::uint64_t max_rss = 0, max_workers_rss = 0;
  std::size_t max_fds = 0, max_workers = 0;
  for (const auto& s : samples) {
    max_rss = std::max(max_rss, s.rss_kb);
    max_fds = std::max(max_fds, s.fds);
    max_workers = std::max(max_workers, s.workers);
    max_workers_rss = std::max(max_workers_rss, s.worker_rss_max_kb);
  }
  std::printf("\nsoak: %.0f s, %zu workers, %zu samples -> %s\n", last.seconds, options.workers, samples.size(),
              csv_path.c_str());
  std::printf(
      "compiles done: %llu (%.2f/s): ok %llu, crash %llu, compile_error %llu, other %llu; workers started %llu\n",
      static_cast<unsigned long long>(last.done), static_cast<double>(last.done) / std::max(last.seconds, 1e-9),
      static_cast<unsigned long long>(last.ok), static_cast<unsigned long long>(last.crash),
      static_cast<unsigned long long>(last.compile_error), static_cast<unsigned long long>(last.other),
      static_cast<unsigned long long>(last.started));
  std::printf(
      "parent RSS: start %llu KiB, after first interval %llu KiB, end %llu KiB, max %llu KiB, after shutdown %llu "
      "KiB\n",
      static_cast<unsigned long long>(first.rss_kb), static_cast<unsigned long long>(warm.rss_kb),
      static_cast<unsigned long long>(last.rss_kb), static_cast<unsigned long long>(max_rss),
      static_cast<unsigned long long>(rss_after));
  std::printf("parent fds: start %zu, end %zu, max %zu, after shutdown %zu\n", first.fds, last.fds, max_fds, fds_after);
  std::printf("workers: %zu at start, %zu at end, at most %zu; worker RSS max %llu KiB\n", first.workers, last.workers,
              max_workers, static_cast<unsigned long long>(max_workers_rss));
  return 0;
}
