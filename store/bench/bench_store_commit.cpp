// What a tuning session pays to commit every evaluation as it finishes (engine/tuning_session.cpp,
// through MeasurementLedger::record, which calls Store::record_measurements with that one
// measurement): the wall time of Store::record_measurements for one measurement (one WAL transaction,
// synchronous=FULL, so one fsync of the -wal file), against the same measurements committed 16 to
// a transaction (what sessions did before). The commit runs on the engine thread between two GPU
// measurements, so its time is GPU idle time; compare with a GPU evaluation (load, verify,
// warm-up, samples: milliseconds).
//
//   bench_store_commit [--dir DIR] [--count N]
//
// DIR is where the store file goes (default: the system temp folder); put it on the disk the
// real store lives on (~/.cache/ktune), since the fsync is what is measured.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/common/hash.hpp"
#include "store/store.hpp"

using namespace ktune;
using namespace ktune::store;
using Clock = std::chrono::steady_clock;

namespace {

Measurement make_measurement(std::int64_t i) {
  Measurement m;
  m.config = {{"BM", 64 << (i % 3)}, {"BN", 32 << (i % 4)}, {"BK", 8}, {"TM", 4}, {"TN", 4}, {"I", i}};
  m.status = MeasurementStatus::ok;
  m.timing = TimingStats{1843200.0 + static_cast<double>(i), 1830000.0, 1845000.0, 2100.0, 25, "cupti"};
  m.registers = 96;
  m.shared_bytes = 32768;
  m.compile_seconds = 0.131;
  m.measured_at = 1795342500 + i;
  m.ktune_version = "0.1.0";
  return m;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir = std::filesystem::temp_directory_path();
  int count = 500;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (arg == "--count" && i + 1 < argc)
      count = std::max(16, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_store_commit [--dir DIR] [--count N]\n");
      return 2;
    }
  }
  const std::filesystem::path path = dir / ("bench-store-commit-" + std::to_string(::getpid()) + ".db");
  struct Cleanup {
    std::filesystem::path path;
    ~Cleanup() {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    }
  } cleanup{path};

  auto store = Store::open(path).value_or_throw();
  const std::string kernel_json = R"({"form":"ktune-kernel","bench":"store_commit"})";
  const KernelRecord kernel{xxh3_128(kernel_json).hex(), "bench_kernel", kernel_json};
  store.put_kernel(kernel).value_or_throw();
  const TuningRecord tuning{xxh3_128("bench tuning").hex(), kernel.kernel_key, {{"M", 4096}, {"N", 4096}, {"K", 4096}},
                            "NVIDIA H100 80GB HBM3",        "sm_90",           "nvrtc 13.0"};

  // One measurement per transaction: what a session does now.
  std::vector<double> single_us;
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    store.record_measurements({tuning, {make_measurement(i)}, {}}).value_or_throw();
    single_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  // 16 per transaction: what sessions did before.
  std::vector<double> batch_us;
  for (int i = 0; i + 16 <= count; i += 16) {
    MeasurementBatch batch{tuning, {}, {}};
    for (int k = 0; k < 16; ++k) batch.measurements.push_back(make_measurement(count + i + k));
    const auto start = Clock::now();
    store.record_measurements(batch).value_or_throw();
    batch_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  double single_total = 0, batch_total = 0;
  for (double t : single_us) single_total += t;
  for (double t : batch_us) batch_total += t;
  const double single_mean = single_total / static_cast<double>(single_us.size());
  const double batch_per_measurement = batch_total / static_cast<double>(batch_us.size() * 16);
  std::printf("store: %s (WAL, synchronous=FULL)\n", path.c_str());
  std::printf("one measurement per commit: mean %.0f us, p50 %.0f us, p99 %.0f us (%d commits)\n", single_mean,
              percentile(single_us, 0.5), percentile(single_us, 0.99), count);
  std::printf("16 measurements per commit: %.0f us per commit, %.0f us per measurement\n",
              batch_total / static_cast<double>(batch_us.size()), batch_per_measurement);
  std::printf(
      "extra engine-thread time per evaluation from committing each one: %.0f us "
      "(%.2f %% of a 10 ms GPU evaluation)\n",
      single_mean - batch_per_measurement, (single_mean - batch_per_measurement) / 100.0);
  return 0;
}
