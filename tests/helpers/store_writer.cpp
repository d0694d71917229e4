// A separate writer process for tests/test_store_reliability.cpp: records `batches` batches of
// `per_batch` measurements into one store, each batch one record_measurements call.
//
//   store_writer DB WRITER_ID BATCHES PER_BATCH [HANG_AT_BATCH]
//
// With HANG_AT_BATCH = k, batch k (0-based) writes all its rows, then (inside the transaction,
// before COMMIT) prints "partial" on stdout and sleeps, so the test can SIGKILL it mid-batch.
// Every configuration is {W: writer, B: batch, I: index}, so the test can tell exactly which rows
// arrived. Exit status: 0 on success; 1 with the error on stderr otherwise.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/common/hash.hpp"
#include "store/store.hpp"

namespace {
constexpr const char* kKernelJson = R"({"form":"ktune-kernel","test":"store_writer"})";
}

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: store_writer DB WRITER_ID BATCHES PER_BATCH [HANG_AT_BATCH]\n");
    return 2;
  }
  const std::string db = argv[1];
  const long writer = std::atol(argv[2]);
  const long batches = std::atol(argv[3]);
  const long per_batch = std::atol(argv[4]);
  const long hang_at = argc == 6 ? std::atol(argv[5]) : -1;

  using namespace ktune::store;
  long current_batch = 0;
  StoreOptions options;
  options.before_commit = [&] {
    if (current_batch != hang_at) return;
    std::printf("partial\n");
    std::fflush(stdout);
    for (;;) pause();
  };
  auto store = Store::open(db, options);
  if (!store) {
    std::fprintf(stderr, "store_writer %ld: %s\n", writer, store.error().message.c_str());
    return 1;
  }
  const KernelRecord kernel{ktune::xxh3_128(kKernelJson).hex(), "store_writer_kernel", kKernelJson};
  if (auto ok = store->put_kernel(kernel); !ok) {
    std::fprintf(stderr, "store_writer %ld: %s\n", writer, ok.error().message.c_str());
    return 1;
  }
  MeasurementBatch batch;
  batch.tuning = {ktune::xxh3_128("writer " + std::to_string(writer)).hex(), kernel.kernel_key,
                  {{"M", 1024 * (writer + 1)}}, "NVIDIA H100 80GB HBM3", "sm_90", "nvrtc 13.0"};
  for (current_batch = 0; current_batch < batches; ++current_batch) {
    batch.measurements.clear();
    for (long i = 0; i < per_batch; ++i) {
      Measurement m;
      m.config = {{"W", writer}, {"B", current_batch}, {"I", i}};
      m.status = i % 7 == 3 ? MeasurementStatus::compile_error : MeasurementStatus::ok;
      if (m.status == MeasurementStatus::ok)
        m.timing = TimingStats{1000.0 + static_cast<double>(i), 990.0, 1001.0, 3.5, 25, "cupti"};
      else
        m.message = "error: identifier \"BMX\" is undefined (a long compiler log excerpt stands here)";
      m.registers = 64;
      m.shared_bytes = 16384;
      m.compile_seconds = 0.13;
      m.measured_at = 1795342500 + current_batch;
      m.ktune_version = "0.1.0";
      batch.measurements.push_back(std::move(m));
    }
    if (auto ok = store->record_measurements(batch); !ok) {
      std::fprintf(stderr, "store_writer %ld batch %ld: %s\n", writer, current_batch, ok.error().message.c_str());
      return 1;
    }
  }
  return 0;
}
