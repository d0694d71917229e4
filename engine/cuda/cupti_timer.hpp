#pragma once
// Kernel-only timing with CUPTI activity records (CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: the
// KERNEL kind would serialise kernels). Measured on the H100: a 45 us reduction reads 45.2 us here
// against 52 us with CUDA events around the launch. CUPTI is process-global, so there is at most
// one timer per process (the runner's).
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/common/result.hpp"

namespace ktune::cuda {

struct KernelRecord {
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;
  std::uint32_t correlation_id = 0;
  double duration_ns() const noexcept { return static_cast<double>(end_ns - start_ns); }
};

class CuptiKernelTimer {
 public:
  // Loads CUPTI (run time), registers the buffer callbacks and enables kernel records.
  static Result<std::unique_ptr<CuptiKernelTimer>> start();
  ~CuptiKernelTimer();
  CuptiKernelTimer(const CuptiKernelTimer&) = delete;
  CuptiKernelTimer& operator=(const CuptiKernelTimer&) = delete;

  // Flushes CUPTI (call after synchronising) and returns the kernel records completed since the
  // last call, in launch order (one stream).
  Result<std::vector<KernelRecord>> collect();
  std::uint64_t dropped_records() const;

 private:
  CuptiKernelTimer() = default;
};

}  // namespace ktune::cuda
