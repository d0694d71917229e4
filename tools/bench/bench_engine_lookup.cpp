// Hot lookups from inside a compiler's process (issue #20): what Engine::lookup and ktune_lookup
// cost once a kernel is tuned and the engine is warm. Goals: p50 <= 1 us and p99 <= 5 us, through
// C++ and the C API.
//
//   bench_engine_lookup [LOOKUPS=200000]
//
// Needs no GPU: the engine tunes the example SGEMM at M=N=K=2048 by replaying recorded H100
// measurements (tests/data/h100-sgemm.db, EngineOptions::replay), so the lookup table holds an
// exact answer; a C API engine opens the same store and asks for the same device by name. Each
// lookup is timed on its own (steady_clock around one call) and reported as p50/p99/max; the
// clock read itself (~20-30 ns) is included. For contrast it also times the spec path
// (Engine::lookup(KernelSpec, ...)), which computes the kernel's keys on every call.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/ktune.h"

using namespace ktune;
using Clock = std::chrono::steady_clock;

namespace {
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

template <class Lookup>
std::vector<double> time_each(long count, Lookup&& lookup) {
  std::vector<double> ns;
  ns.reserve(static_cast<std::size_t>(count));
  for (long i = 0; i < count; ++i) {
    const auto start = Clock::now();
    const bool exact = lookup();
    ns.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()));
    if (!exact) {
      std::fprintf(stderr, "bench_engine_lookup: a lookup was not an exact answer\n");
      std::exit(1);
    }
  }
  return ns;
}

void report(const char* what, const std::vector<double>& ns) {
  std::printf("%-58s p50 %7.0f ns  p99 %7.0f ns  max %9.0f ns  (%zu lookups)\n", what, percentile(ns, 0.5),
              percentile(ns, 0.99), percentile(ns, 1.0), ns.size());
}
}  // namespace

int main(int argc, char** argv) {
  const long lookups = argc > 1 ? std::atol(argv[1]) : 200000;
  const std::filesystem::path root = KTUNE_SOURCE_DIR;
  const auto dir = std::filesystem::temp_directory_path() / ("ktune-bench-engine-lookup-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const DeviceSignature h100{"NVIDIA H100 80GB HBM3", "sm_90"};

  EngineOptions options;
  options.store_path = dir / "store.db";
  options.replay = EngineOptions::Recording{root / "tests/data/h100-sgemm.db", h100, Toolchain{"13.0"}};
  auto engine = Engine::create(options).value_or_throw();
  const KernelSpec spec = KernelSpec::from_file(root / "examples/sgemm.json").value_or_throw();
  const Sizes sizes{{"M", 2048}, {"N", 2048}, {"K", 2048}};
  TuneOptions tune;
  tune.strategy = "coordesc";
  auto tuned = engine->tune(spec, sizes, tune).value_or_throw();
  std::printf("tuned (replayed H100 measurements): %s\n", format_named(tuned.report.best).c_str());

  const PreparedKernel kernel = PreparedKernel::from(spec);
  auto exact = [](const Result<LookupAnswer>& a) { return a.ok() && a->rule == LookupRule::exact; };
  for (int i = 0; i < 1000; ++i) (void)engine->lookup(kernel, sizes);  // warm: keys, tier, caches
  report("C++ Engine::lookup(PreparedKernel, sizes)", time_each(lookups, [&] { return exact(engine->lookup(kernel, sizes)); }));
  report("C++ Engine::lookup(PreparedKernel, sizes, device)",
         time_each(lookups, [&] { return exact(engine->lookup(kernel, sizes, h100)); }));
  report("C++ Engine::lookup(KernelSpec, sizes, device) [keys per call]",
         time_each(std::min(lookups, 20000L), [&] { return exact(engine->lookup(spec, sizes, h100)); }));

  ktune_engine* c_engine = nullptr;
  ktune_spec* c_spec = nullptr;
  const std::string store = options.store_path.string();
  const std::string spec_path = (root / "examples/sgemm.json").string();
  if (ktune_engine_create(store.c_str(), &c_engine) != KTUNE_OK || ktune_spec_load_file(spec_path.c_str(), &c_spec) != KTUNE_OK) {
    std::fprintf(stderr, "bench_engine_lookup: %s\n", ktune_last_error_message());
    return 1;
  }
  const char* names[] = {"M", "N", "K"};
  const int64_t values[] = {2048, 2048, 2048};
  auto c_lookup = [&] {
    ktune_answer* answer = nullptr;
    if (ktune_lookup(c_engine, c_spec, names, values, 3, h100.name.c_str(), h100.arch.c_str(), &answer) != KTUNE_OK) return false;
    ktune_rule rule = KTUNE_RULE_DEFAULT;
    (void)ktune_answer_rule(answer, &rule);
    ktune_answer_destroy(answer);
    return rule == KTUNE_RULE_EXACT;
  };
  for (int i = 0; i < 1000; ++i) (void)c_lookup();
  report("C ktune_lookup + ktune_answer_rule + ktune_answer_destroy", time_each(lookups, c_lookup));
  ktune_spec_destroy(c_spec);
  ktune_engine_destroy(c_engine);

  engine.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
