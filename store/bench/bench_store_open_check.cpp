// What the integrity check on every Store::open costs (store/store_integrity.hpp), against the
// store's size: the cheap check (header + size + root pages), the whole Store::open (read-only),
// and the full PRAGMA integrity_check of `ktune doctor --store`, on a store of N lookup-table
// entries (issue 14: the cheap check must stay within 5 ms at 100 000).
//
//   bench_store_open_check [--dir DIR] [--entries N] [--repeat R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/common/hash.hpp"
#include "store/sqlite_handle.hpp"
#include "store/store.hpp"
#include "store/store_integrity.hpp"

using namespace ktune;
using namespace ktune::store;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void fill(Store& store, int entries) {
  const std::string kernel_json = R"({"name":"bench_open_check"})";
  const KernelRecord kernel{xxh3_128(kernel_json).hex(), "bench_open_check", kernel_json};
  LookupTable table;
  table.kernels.push_back(kernel);
  for (int i = 0; i < entries; ++i) {
    BestRecord b;
    const Sizes sizes{{"M", i + 1}, {"N", 4096}, {"K", 4096}};
    b.tuning = {xxh3_128(kernel.kernel_key + format_named(sizes)).hex(), kernel.kernel_key, sizes,
                "NVIDIA H100 80GB HBM3", "sm_90", "nvrtc 13.0"};
    b.config = {{"BM", 64}, {"BN", 128}, {"BK", 32}, {"TM", 4}, {"TN", 4}};
    b.time_ns = 1.0e5 + i;
    b.default_time_ns = 2.0e5;
    b.strategy = "bestfirst";
    b.evaluations = 200;
    b.wall_seconds = 3.5;
    b.tuned_at = 1795305600;
    b.ktune_version = "0.1.0";
    table.entries.push_back(std::move(b));
  }
  (void)store.import_table(table).value_or_throw();
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir = std::filesystem::temp_directory_path();
  int entries = 100'000, repeat = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--dir") dir = argv[i + 1];
    else if (arg == "--entries") entries = std::max(1, std::atoi(argv[i + 1]));
    else if (arg == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
  }
  const auto path = dir / ("bench_store_open_check-" + std::to_string(::getpid()) + ".db");
  {
    auto store = Store::open(path).value_or_throw();
    fill(store, entries);
  }  // closed: the -wal is checkpointed and removed, as after any ktune command
  std::error_code ec;
  std::printf("store: %d entries, %.1f MB\n", entries, static_cast<double>(std::filesystem::file_size(path, ec)) / 1e6);

  std::vector<double> header, roots, open;
  for (int r = 0; r < repeat; ++r) {
    auto start = Clock::now();
    check_store_header(path).value_or_throw();
    header.push_back(ms_since(start));
    auto db = Database::open(path.string(), false, true).value_or_throw();
    start = Clock::now();
    check_root_pages(db, path).value_or_throw();
    roots.push_back(ms_since(start));
    StoreOptions options;
    options.read_only = true;
    start = Clock::now();
    auto store = Store::open(path, options).value_or_throw();
    open.push_back(ms_since(start));
  }
  std::printf("cheap check, header + size:     median %.4f ms (%d runs)\n", median(header), repeat);
  std::printf("cheap check, root pages:        median %.4f ms\n", median(roots));
  std::printf("cheap check, total:             median %.4f ms\n", median(header) + median(roots));
  std::printf("Store::open read-only (all):    median %.4f ms\n", median(open));
  {
    StoreOptions options;
    options.read_only = true;
    auto store = Store::open(path, options).value_or_throw();
    const auto start = Clock::now();
    const auto problems = store.check_integrity().value_or_throw();
    std::printf("full check (integrity_check):   %.1f ms, %zu problems\n", ms_since(start), problems.size());
  }
  std::filesystem::remove(path, ec);
  return 0;
}
