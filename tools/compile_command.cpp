// `ktune compile SPEC` — compiles every valid configuration of a spec through the compile pool
// (no GPU needed) and reports what compiled, what failed and why, and the throughput.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>

#include "engine/compile_service.hpp"
#include "engine/cuda/driver_api.hpp"
#include "engine/model/instantiate.hpp"
#include "tools/commands.hpp"
#include "tools/spec_loading.hpp"
#include "tuner/search_space.hpp"

namespace ktune::cli {

namespace {

struct CompileOptions {
  std::string spec;
  std::size_t workers = 0;
  std::string arch;
  std::string cache_dir;
  bool no_cache = false;
  bool no_nvrtc_cache = false;
  double timeout_s = 60.0;
  std::size_t show_failures = 10;
};

// The architecture to compile for: --arch, else the first GPU's, else sm_90.
std::string choose_arch(const std::string& requested, const KernelSpec& spec) {
  std::string device_arch;
  if (requested.empty())
    if (auto devices = cuda::list_devices(); devices && !devices->empty()) device_arch = devices->front().arch;
  auto arch = ktune::choose_arch(requested, device_arch, spec);
  if (!arch) throw CliFailure("--arch: " + arch.error().message);
  return *arch;
}

// The first line of a compile log that says "error" (the one a user needs), else its first line.
std::string headline(const std::string& log) {
  std::size_t start = 0;
  std::string first;
  while (start < log.size()) {
    const std::size_t end = std::min(log.find('\n', start), log.size());
    const std::string line = log.substr(start, end - start);
    if (first.empty() && !line.empty()) first = line;
    if (line.find("error") != std::string::npos) return line;
    start = end + 1;
  }
  return first;
}

void run_compile(const CompileOptions& o) {
  const KernelSpec spec = load_spec(o.spec);
  auto space = SearchSpace::build(spec.space);
  if (!space) throw KtuneError(space.error());
  const std::uint64_t count = space->valid_count();
  if (count == 0) throw CliFailure("no valid configuration in " + spec.name);
  const std::string arch = choose_arch(o.arch, spec);

  CompileServiceOptions service_options;
  service_options.workers = o.workers;
  service_options.use_cubin_cache = !o.no_cache;
  service_options.cubin_cache_dir = o.cache_dir;
  service_options.job_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000.0));
  auto service = CompileService::create(service_options);
  if (!service) throw KtuneError(service.error());
  CompileService& compiler = **service;
  // A worker that never answers its hello would otherwise cost every configuration a startup
  // timeout in turn; one clear line instead, bounded by --timeout.
  if (auto ready = compiler.wait_ready(); !ready)
    throw CliFailure("the compile workers did not start: " + ready.error().message);

  std::fprintf(stderr, "compiling %llu configurations of %s for %s with %zu workers (NVRTC %s)\n",
               static_cast<unsigned long long>(count), spec.name.c_str(), arch.c_str(), compiler.workers(),
               compiler.nvrtc_version().c_str());
  const auto start = std::chrono::steady_clock::now();

  std::mutex mutex;
  std::condition_variable done_cv;
  std::vector<std::optional<CompileOutcome>> results(count);
  std::uint64_t done = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    compiler.compile(spec, space->config_at(i), arch, !o.no_nvrtc_cache, [&, i](CompileOutcome r) {
      std::lock_guard lock(mutex);
      results[i] = std::move(r);
      ++done;
      done_cv.notify_one();
    });
  }
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  {
    std::unique_lock lock(mutex);
    while (done < count) {
      done_cv.wait_for(lock, std::chrono::milliseconds(250));
      if (tty) std::fprintf(stderr, "\r  %llu/%llu", static_cast<unsigned long long>(done), static_cast<unsigned long long>(count));
    }
  }
  if (tty) std::fprintf(stderr, "\r");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  compiler.shutdown();

  std::map<std::string, std::uint64_t> by_status;
  std::uint64_t compiled = 0, cached = 0;
  double worker_seconds = 0;
  std::vector<std::uint64_t> failed;
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto& r = *results[i];
    if (r.ok) {
      ++compiled;
      if (r.from_cache) ++cached;
    } else {
      ++by_status[r.status];
      failed.push_back(i);
    }
    worker_seconds += r.compile_seconds;
  }

  std::printf("%s: %llu of %llu configurations compiled for %s in %.2f s (%.1f configs/s, %zu workers",
              spec.name.c_str(), static_cast<unsigned long long>(compiled), static_cast<unsigned long long>(count),
              arch.c_str(), seconds, static_cast<double>(count) / std::max(seconds, 1e-9), compiler.workers());
  if (compiler.caches_cubins()) std::printf(", %llu from the cubin cache", static_cast<unsigned long long>(cached));
  std::printf(")\n");
  if (compiled > cached)
    std::printf("  NVRTC time %.2f s total, %.0f ms per compiled configuration\n", worker_seconds,
                1000.0 * worker_seconds / static_cast<double>(compiled - cached));
  if (!failed.empty()) {
    std::string classes;
    for (const auto& [name, n] : by_status) classes += (classes.empty() ? "" : ", ") + std::to_string(n) + " " + name;
    std::printf("failed: %zu (%s)\n", failed.size(), classes.c_str());
    for (std::size_t k = 0; k < failed.size() && k < o.show_failures; ++k) {
      const auto& r = *results[failed[k]];
      std::printf("  %s  %s: %s\n", format_named(space->config_at(failed[k])).c_str(),
                  r.status.c_str(), headline(r.log).c_str());
    }
    if (failed.size() > o.show_failures)
      std::printf("  ... and %zu more (--show-failures N lists more)\n", failed.size() - o.show_failures);
    // "failed to compile" would send the user looking for a mistake in the kernel; when the
    // compiler itself died on every failed configuration, say that.
    if (by_status.size() == 1 && results[failed.front()]->compiler_crashed())
      throw CliFailure(std::to_string(failed.size()) + " of " + std::to_string(count) +
                       " configurations crashed the compiler, e.g. " + headline(results[failed.front()]->log));
    throw CliFailure(std::to_string(failed.size()) + " of " + std::to_string(count) + " configurations failed to compile");
  }
}

}  // namespace

void add_compile_command(CLI::App& app) {
  auto o = std::make_shared<CompileOptions>();
  auto* cmd = app.add_subcommand("compile", "Compile every valid configuration of a spec to CUBIN (no GPU needed)");
  cmd->add_option("spec", o->spec, "Kernel spec (JSON)")->required();
  cmd->add_option("--workers,-j", o->workers, "Compile worker processes (default: min(cores, 32))")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--arch", o->arch, "Target architecture, e.g. sm_90 (default: the first GPU's, else sm_90)");
  cmd->add_option("--cache-dir", o->cache_dir, "Cubin cache folder (default: ~/.cache/ktune/cubins)");
  cmd->add_flag("--no-cache", o->no_cache, "Neither read nor write the cubin cache");
  cmd->add_flag("--no-nvrtc-cache", o->no_nvrtc_cache, "Disable NVRTC's own disk cache too (cold compiles)");
  cmd->add_option("--timeout", o->timeout_s, "Per-configuration compile timeout in seconds")->check(CLI::PositiveNumber);
  cmd->add_option("--show-failures", o->show_failures, "How many failed configurations to list");
  cmd->callback([o] { run_compile(*o); });
}

}  // namespace ktune::cli
