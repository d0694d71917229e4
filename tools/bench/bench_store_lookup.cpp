// Lookup latency of the store (Store issue goals: hot lookup <= 1 us p50 from the in-memory tier;
// first lookup after opening a store of 100 000 entries <= 5 ms).
//
//   bench_store_lookup [ENTRIES=100000] [HOT_LOOKUPS=1000000]
//
// Builds a scratch store of ENTRIES lookup-table entries (one import transaction), then measures
// (1) open + first lookup in a fresh Store, several times; (2) hot lookups of keys already in the
// tier, each timed on its own, reported as p50/p99/max. The OS page cache is warm (the file was
// just written): a cold-disk first lookup adds the device's read latency for a few pages.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <unistd.h>
#include <string>
#include <vector>

#include "engine/common/hash.hpp"
#include "store/store.hpp"

using namespace ktune;
using namespace ktune::store;
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
  const long hot_lookups = argc > 2 ? std::atol(argv[2]) : 1000000;
  const auto dir = std::filesystem::temp_directory_path() / ("ktune-bench-store-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "bench.db";

  const std::string kernel_json = R"({"form":"ktune-kernel","bench":"store_lookup"})";
  const KernelRecord kernel{xxh3_128(kernel_json).hex(), "bench_kernel", kernel_json};
  LookupTable table;
  table.kernels.push_back(kernel);
  std::vector<LookupRequest> requests;
  for (long i = 0; i < entries; ++i) {
    BestRecord b;
    b.tuning = {xxh3_128("tuning " + std::to_string(i)).hex(), kernel.kernel_key,
                {{"M", 64 * (1 + i % 317)}, {"N", 64 * (1 + i / 317)}, {"K", 4096}}, "NVIDIA H100 80GB HBM3", "sm_90",
                "nvrtc 13.0"};
    b.config = {{"BM", 128}, {"BN", 128}, {"BK", 8}, {"TM", 8}, {"TN", 8}};
    b.time_ns = 1e6 + static_cast<double>(i);
    b.default_time_ns = 3e6;
    b.strategy = "exhaustive";
    b.evaluations = 243;
    b.wall_seconds = 3.9;
    b.tuned_at = 1795342500;
    b.ktune_version = "0.1.0";
    requests.push_back({b.tuning.tuning_key, b.tuning.kernel_key, b.tuning.sizes, b.tuning.device, b.tuning.arch,
                        b.tuning.toolchain});
    table.entries.push_back(std::move(b));
  }
  {
    const auto start = Clock::now();
    auto store = Store::open(path).value_or_throw();
    auto summary = store.import_table(table).value_or_throw();
    std::printf("built store: %zu entries in %.2f s (%s, %.1f MiB)\n", summary.entries_added, ns_since(start) / 1e9,
                path.c_str(), static_cast<double>(std::filesystem::file_size(path)) / (1 << 20));
  }

  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, requests.size() - 1);
  std::vector<double> open_ns, first_ns;
  for (int round = 0; round < 7; ++round) {
    const auto& request = requests[pick(rng)];
    const auto start = Clock::now();
    auto store = Store::open(path).value_or_throw();
    const double opened = ns_since(start);
    const auto before_lookup = Clock::now();
    auto answer = store.lookup(request).value_or_throw();
    first_ns.push_back(ns_since(before_lookup));
    open_ns.push_back(opened);
    if (answer.rule != LookupRule::exact) return std::fprintf(stderr, "unexpected miss\n"), 1;
  }
  std::printf("open: median %.3f ms   first lookup (exact): median %.3f ms, max %.3f ms   open+first: median %.3f ms\n",
              percentile(open_ns, 0.5) / 1e6, percentile(first_ns, 0.5) / 1e6, percentile(first_ns, 1.0) / 1e6,
              (percentile(open_ns, 0.5) + percentile(first_ns, 0.5)) / 1e6);

  auto store = Store::open(path).value_or_throw();
  // A fallback (nearest size) miss: scans this kernel's entries once, then is cached.
  {
    LookupRequest miss = requests[0];
    miss.tuning_key = xxh3_128("not stored").hex();
    miss.sizes = {{"M", 1000}, {"N", 1000}, {"K", 4000}};
    const auto start = Clock::now();
    auto answer = store.lookup(miss).value_or_throw();
    std::printf("first nearest-size fallback over %ld entries: %.3f ms (rule %s)\n", entries, ns_since(start) / 1e6,
                std::string(to_string(answer.rule)).c_str());
  }
  constexpr std::size_t kHotKeys = 1000;
  for (std::size_t i = 0; i < kHotKeys; ++i) (void)store.lookup(requests[i]).value_or_throw();
  std::vector<double> hot;
  hot.reserve(static_cast<std::size_t>(hot_lookups));
  std::size_t hits = 0;
  for (long i = 0; i < hot_lookups; ++i) {
    const auto& request = requests[static_cast<std::size_t>(i) % kHotKeys];
    const auto start = Clock::now();
    auto answer = store.lookup(request);
    hot.push_back(ns_since(start));
    hits += answer.ok() && answer->rule == LookupRule::exact;
  }
  std::printf("hot lookup (in-memory tier, %ld lookups over %zu keys, %zu exact): p50 %.0f ns  p99 %.0f ns  max %.0f ns\n",
              hot_lookups, kHotKeys, hits, percentile(hot, 0.5), percentile(hot, 0.99), percentile(hot, 1.0));
  std::filesystem::remove_all(dir);
  return 0;
}
