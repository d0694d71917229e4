// `ktune compile SPEC` — compiles every valid configuration of a spec through the compile pool
// (no GPU needed) and reports what compiled, what failed and why, and the throughput. Exit status:
// see the footer of its --help (and docs/workers.md).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>

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
  bool pch = false;
  double timeout_s = 60.0;
  std::size_t show_failures = 10;
  std::uint64_t sample = 0;  // 0: every valid configuration
  std::uint64_t seed = 1;
  bool warnings = false;
  bool strict = false;
  bool no_check = false;
};

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

// The distinct warning lines of the compile logs (NVRTC prints "file(line): warning #177-D: ..."),
// each with how many configurations printed it, in first-seen order.
std::vector<std::pair<std::string, std::uint64_t>> warning_lines(const std::vector<std::optional<CompileOutcome>>& results) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  std::map<std::string, std::size_t> seen;
  for (const auto& r : results) {
    std::set<std::string> in_this_log;
    std::size_t start = 0;
    const std::string& log = r->log;
    while (start < log.size()) {
      const std::size_t end = std::min(log.find('\n', start), log.size());
      std::string line = log.substr(start, end - start);
      start = end + 1;
      // "file(line): warning #177-D: ..." (not the "Remark: The warnings can be suppressed" trailer).
      if (line.find(": warning") == std::string::npos || !in_this_log.insert(line).second) continue;
      auto [it, inserted] = seen.emplace(line, out.size());
      if (inserted) out.emplace_back(line, 0);
      ++out[it->second].second;
    }
  }
  return out;
}

void run_compile(const CompileOptions& o) {
  const KernelSpec spec = load_spec(o.spec);
  auto space = SearchSpace::build(spec.space);
  if (!space) throw KtuneError(space.error());
  if (space->valid_count() == 0) throw CliFailure("no valid configuration in " + spec.name);
  const std::string arch = choose_compile_arch(o.arch, spec);

  // Every valid configuration, or a deterministic random sample of them (Floyd's algorithm over
  // the valid ones: the same seed picks the same configurations however large the space).
  std::vector<Config> configs;
  if (o.sample > 0) {
    configs = space->sample(static_cast<std::size_t>(o.sample), o.seed);
  } else {
    configs.reserve(space->valid_count());
    for (std::uint64_t i = 0; i < space->valid_count(); ++i) configs.push_back(space->config_at(i));
  }
  const std::uint64_t count = configs.size();

  CompileServiceOptions service_options;
  service_options.workers = o.workers;
  service_options.use_cubin_cache = !o.no_cache;
  service_options.cubin_cache_dir = o.cache_dir;
  service_options.use_pch = o.pch;
  service_options.job_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000.0));
  auto service = CompileService::create(service_options);
  if (!service) throw KtuneError(service.error());
  CompileService& compiler = **service;
  // A worker that never answers its hello would otherwise cost every configuration a startup
  // timeout in turn; one clear line instead, bounded by --timeout.
  if (auto ready = compiler.wait_ready(); !ready)
    throw CliFailure("the compile workers did not start: " + ready.error().message);
  // A wrong entry or argument list fails every configuration the same way: said once, first (exit 1).
  if (!o.no_check) (void)check_entry_and_args(spec, arch, &compiler, /*tolerate_compiler_failure=*/true);

  std::fprintf(stderr, "compiling %llu%s configurations of %s for %s with %zu workers (NVRTC %s)\n",
               static_cast<unsigned long long>(count),
               o.sample > 0 ? (" sampled (seed " + std::to_string(o.seed) + ") of " + std::to_string(space->valid_count())).c_str() : "",
               spec.name.c_str(), arch.c_str(), compiler.workers(), compiler.nvrtc_version().c_str());
  const auto start = std::chrono::steady_clock::now();

  std::mutex mutex;
  std::condition_variable done_cv;
  std::vector<std::optional<CompileOutcome>> results(count);
  std::uint64_t done = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    compiler.compile(spec, configs[i], arch, !o.no_nvrtc_cache, [&, i](CompileOutcome r) {
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
  std::uint64_t compiled = 0, cached = 0, attempted = 0, failed_attempts = 0;
  double worker_seconds = 0;
  std::vector<std::uint64_t> failed;
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto& r = *results[i];
    if (r.from_cache) ++cached;
    else if (r.status != "cancelled") ++attempted;  // NVRTC ran (or the worker died trying)
    if (r.ok) {
      ++compiled;
    } else {
      ++by_status[r.status];
      failed.push_back(i);
      if (!r.from_cache) ++failed_attempts;
    }
    worker_seconds += r.compile_seconds;
  }

  std::printf("%s: %llu of %llu configurations compiled for %s in %.2f s (%.1f configs/s, %zu workers",
              spec.name.c_str(), static_cast<unsigned long long>(compiled), static_cast<unsigned long long>(count),
              arch.c_str(), seconds, static_cast<double>(count) / std::max(seconds, 1e-9), compiler.workers());
  if (compiler.caches_cubins())
    std::printf(", %llu answered by the cubin cache", static_cast<unsigned long long>(cached));
  std::printf(")\n");
  // Per attempted configuration, failures included: a failed compile costs NVRTC time too.
  if (attempted > 0)
    std::printf("  NVRTC time %.2f s total, %.0f ms per attempted configuration (%llu attempted, %llu of them failed)\n",
                worker_seconds, 1000.0 * worker_seconds / static_cast<double>(attempted),
                static_cast<unsigned long long>(attempted), static_cast<unsigned long long>(failed_attempts));
  if (o.warnings) {
    const auto warnings = warning_lines(results);
    if (warnings.empty()) std::printf("warnings: none\n");
    else std::printf("warnings: %zu distinct\n", warnings.size());
    for (std::size_t k = 0; k < warnings.size() && k < o.show_failures; ++k)
      std::printf("  [%llu configurations] %s\n", static_cast<unsigned long long>(warnings[k].second), warnings[k].first.c_str());
    if (warnings.size() > o.show_failures)
      std::printf("  ... and %zu more (--show-failures N lists more)\n", warnings.size() - o.show_failures);
  }
  if (failed.empty()) return;

  std::string classes;
  for (const auto& [name, n] : by_status) classes += (classes.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  std::printf("failed: %zu (%s)\n", failed.size(), classes.c_str());
  for (std::size_t k = 0; k < failed.size() && k < o.show_failures; ++k) {
    const auto& r = *results[failed[k]];
    std::printf("  %s  %s%s: %s\n", spec.space.format(configs[failed[k]]).c_str(), r.status.c_str(),
                r.from_cache ? " (cached)" : "", headline(r.log).c_str());
  }
  if (failed.size() > o.show_failures)
    std::printf("  ... and %zu more (--show-failures N lists more)\n", failed.size() - o.show_failures);

  // Exit status (docs/workers.md): a configuration that does not compile is an ordinary outcome of
  // tuning (Kernel Tuner's CompilationFailedConfig), so 0 while something compiled; 1 when nothing
  // did, when the compiler itself failed (timeout, crash, memory: the machine needs attention), or
  // with --strict for any failure.
  const std::uint64_t compile_errors = by_status.count("compile_error") ? by_status["compile_error"] : 0;
  const std::string summary = std::to_string(failed.size()) + " of " + std::to_string(count) + " configurations";
  if (by_status.size() == 1 && results[failed.front()]->compiler_crashed())
    throw CliFailure(summary + " crashed the compiler, e.g. " + headline(results[failed.front()]->log));
  if (compiled == 0) throw CliFailure("no configuration compiled: " + summary + " failed, e.g. " + headline(results[failed.front()]->log));
  if (compile_errors < failed.size())
    throw CliFailure(std::to_string(failed.size() - compile_errors) + " of " + std::to_string(count) +
                     " configurations failed for a reason other than their source (" + classes + ")");
  if (o.strict) throw CliFailure(summary + " failed to compile (--strict)");
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
  cmd->add_flag("--pch", o->pch,
                "Precompiled headers: each worker compiles the header prefix of a spec that names a package (@cutlass) "
                "once (docs/workers.md)");
  cmd->add_option("--timeout", o->timeout_s, "Per-configuration compile timeout in seconds")->check(CLI::PositiveNumber);
  cmd->add_option("--show-failures", o->show_failures, "How many failed configurations (and warnings) to list");
  cmd->add_option("--sample", o->sample, "Compile N valid configurations chosen at random (deterministic with --seed)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "Seed of --sample")->capture_default_str();
  cmd->add_flag("--warnings", o->warnings, "List NVRTC's warnings (kept with each cubin, so cached ones show too)");
  cmd->add_flag("--strict", o->strict, "Exit 1 when any configuration fails to compile");
  cmd->add_flag("--no-check", o->no_check, "Skip the NVRTC check of the entry and of args against the kernel's parameters");
  cmd->footer(
      "Exit status: 0 when configurations compiled and any failures are compile errors of some configurations "
      "(they are invalid configurations, as in tuning); 1 when the spec or kernel is broken (entry or args "
      "check, nothing compiles), when the compiler failed (timeout, crash, out of memory, internal), or any failure "
      "with --strict; 2 for a usage error. Compile errors are cached like cubins (--no-cache to retry).");
  cmd->callback([o] { run_compile(*o); });
}

}  // namespace ktune::cli
