#pragma once
// Compares an output with the reference on the GPU (device_compare.cu) and reads back 32 bytes
// instead of the whole output: the verification phase of a configuration with a 64 MiB output
// drops from milliseconds of read-back and host comparison to one memory-bound kernel. Where the
// driver cannot load the PTX, the runner keeps verifying on the host (host_data.hpp), by the same
// rule.
#include <cstdint>
#include <memory>

#include "engine/common/element_type.hpp"
#include "engine/common/result.hpp"
#include "engine/cuda/device_buffer.hpp"
#include "engine/cuda/loaded_library.hpp"
#include "engine/runner/host_data.hpp"

namespace ktune::runner {

class DeviceComparer {
 public:
  // Loads the embedded PTX in the current context; an error when the driver cannot JIT it.
  static Result<std::unique_ptr<DeviceComparer>> load(const cuda::DriverApi& api, int multiprocessors);

  // Queues the comparison of `count` elements on `stream`. Read the outcome with read() after
  // the stream has completed.
  Status enqueue(CUstream stream, ElementType type, CUdeviceptr expected, CUdeviceptr got, std::uint64_t count, double rtol,
                 double atol);
  // The outcome of the last enqueue(), with the elements at the first mismatch read back.
  Result<Comparison> read(ElementType type, CUdeviceptr expected, CUdeviceptr got, std::uint64_t count);

 private:
  DeviceComparer(const cuda::DriverApi& api, cuda::LoadedLibrary library, CUfunction function, cuda::DeviceBuffer outcome,
                 int multiprocessors)
      : api_(api), library_(std::move(library)), function_(function), outcome_(std::move(outcome)), multiprocessors_(multiprocessors) {}

  const cuda::DriverApi& api_;
  cuda::LoadedLibrary library_;
  CUfunction function_ = nullptr;
  cuda::DeviceBuffer outcome_;  // DeviceCompareOutcome
  int multiprocessors_ = 1;
};

}  // namespace ktune::runner
