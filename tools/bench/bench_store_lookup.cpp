// Lookup latency through the library's read side, ktune::LookupTable (engine/lookup_table.hpp) —
// what Engine::lookup, `ktune lookup` and the C API's lookup answer with. Goals (Store issue):
// hot lookup <= 1 us p50 from the in-memory tier; first lookup after opening a store of 100 000
// entries <= 5 ms. A LookupTable lookup also checks the sizes against the spec and computes the
// tuning key (kernel and tuning canonical forms of the spec, xxh3-128), so its hot figure is the
// tier's answer plus that key work.
//
//   bench_store_lookup [ENTRIES=100000] [HOT_LOOKUPS=100000]
//
// Writes a scratch store of ENTRIES lookup-table entries for the example SGEMM spec
// (examples/sgemm.json) at ENTRIES size sets (one import transaction through ktune::StoreFile,
// keys built by TuningQuestion like every path that writes the store), then measures (1) open +
// first lookup in a fresh LookupTable, several times; (2) hot lookups of sizes already in the
// tier, each timed on its own, reported as p50/p99/max. The OS page cache is warm (the file was
// just written): a cold-disk first lookup adds the device's read latency for a few pages.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/lookup_table.hpp"
#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "engine/store_file.hpp"

using namespace ktune;
using Clock = std::chrono::steady_clock;

namespace {
double ns_since(Clock::time_point start) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}
}  // namespace

int main(int argc, char** argv) {
  const long entries = argc > 1 ? std::atol(argv[1]) : 100000;
  const long hot_lookups = argc > 2 ? std::atol(argv[2]) : 100000;
  const auto dir = std::filesystem::temp_directory_path() / ("ktune-bench-store-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "bench.db";

  const KernelSpec spec = KernelSpec::from_file(std::filesystem::path(KTUNE_SOURCE_DIR) / "examples/sgemm.json").value_or_throw();
  const DeviceSignature device{"NVIDIA H100 80GB HBM3", "sm_90"};
  const Toolchain toolchain = current_toolchain();  // what LookupTable keys its questions with

  TableDocument table;
  std::vector<Sizes> sizes;
  for (long i = 0; i < entries; ++i) {
    const TuningQuestion question{&spec, {{"M", 64 * (1 + i % 317)}, {"N", 64 * (1 + i / 317)}, {"K", 4096}}, device, toolchain};
    if (i == 0) table.kernels.push_back(question.kernel_record());
    BestRecord b;
    b.tuning = question.tuning_record();
    b.config = {{"BM", 128}, {"BN", 128}, {"BK", 8}, {"TM", 8}, {"TN", 8}};
    b.time_ns = 1e6 + static_cast<double>(i);
    b.default_time_ns = 3e6;
    b.strategy = "exhaustive";
    b.evaluations = 243;
    b.wall_seconds = 3.9;
    b.tuned_at = 1795342500;
    b.ktune_version = "0.1.0";
    sizes.push_back(question.sizes);
    table.entries.push_back(std::move(b));
  }
  {
    const auto start = Clock::now();
    auto store = StoreFile::open(path).value_or_throw();
    auto summary = store.import_table(table).value_or_throw();
    std::printf("built store: %zu entries in %.2f s (%s, %.1f MiB)\n", summary.entries_added, ns_since(start) / 1e9,
                path.c_str(), static_cast<double>(std::filesystem::file_size(path)) / (1 << 20));
  }

  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, sizes.size() - 1);
  std::vector<double> open_ns, first_ns;
  for (int round = 0; round < 7; ++round) {
    const Sizes& at = sizes[pick(rng)];
    const auto start = Clock::now();
    auto opened = LookupTable::open(path).value_or_throw();
    const double opened_ns = ns_since(start);
    const auto before_lookup = Clock::now();
    auto answer = opened.lookup(spec, at, device).value_or_throw();
    first_ns.push_back(ns_since(before_lookup));
    open_ns.push_back(opened_ns);
    if (answer.rule != LookupRule::exact) return std::fprintf(stderr, "unexpected miss\n"), 1;
  }
  std::printf("open: median %.3f ms   first lookup (exact): median %.3f ms, max %.3f ms   open+first: median %.3f ms\n",
              percentile(open_ns, 0.5) / 1e6, percentile(first_ns, 0.5) / 1e6, percentile(first_ns, 1.0) / 1e6,
              (percentile(open_ns, 0.5) + percentile(first_ns, 0.5)) / 1e6);

  const auto lookups = LookupTable::open(path).value_or_throw();
  // A fallback (nearest size) miss: scans this kernel's entries once, then is cached.
  {
    const auto start = Clock::now();
    auto answer = lookups.lookup(spec, {{"M", 1000}, {"N", 1000}, {"K", 4000}}, device).value_or_throw();
    std::printf("first nearest-size fallback over %ld entries: %.3f ms (rule %s)\n", entries, ns_since(start) / 1e6,
                std::string(to_string(answer.rule)).c_str());
  }
  constexpr std::size_t kHotKeys = 1000;
  const std::size_t hot_keys = std::min(kHotKeys, sizes.size());
  for (std::size_t i = 0; i < hot_keys; ++i) (void)lookups.lookup(spec, sizes[i], device).value_or_throw();
  std::vector<double> hot;
  hot.reserve(static_cast<std::size_t>(hot_lookups));
  std::size_t hits = 0;
  for (long i = 0; i < hot_lookups; ++i) {
    const Sizes& at = sizes[static_cast<std::size_t>(i) % hot_keys];
    const auto start = Clock::now();
    auto answer = lookups.lookup(spec, at, device);
    hot.push_back(ns_since(start));
    hits += answer.ok() && answer->rule == LookupRule::exact;
  }
  std::printf(
      "hot lookup (LookupTable: sizes check, tuning key, in-memory tier; %ld lookups over %zu keys, %zu exact): "
      "p50 %.0f ns  p99 %.0f ns  max %.0f ns\n",
      hot_lookups, hot_keys, hits, percentile(hot, 0.5), percentile(hot, 0.99), percentile(hot, 1.0));
  std::filesystem::remove_all(dir);
  return 0;
}
