#include "engine/runner/device_compare/device_comparer.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <vector>

#include "engine/cuda/driver_check.hpp"
#include "engine/runner/device_compare/device_compare_ptx.hpp"

namespace ktune::runner {

Result<std::unique_ptr<DeviceComparer>> DeviceComparer::load(const cuda::DriverApi& api, int multiprocessors) {
  CUlibrary library = nullptr;
  KTUNE_CU_TRY(api, cuLibraryLoadData(&library, kDeviceComparePtx, nullptr, nullptr, 0, nullptr, nullptr, 0));
  cuda::LoadedLibrary loaded(&api, library);
  CUkernel kernel = nullptr;
  KTUNE_CU_TRY(api, cuLibraryGetKernel(&kernel, library, kDeviceCompareKernel));
  CUfunction function = nullptr;
  KTUNE_CU_TRY(api, cuKernelGetFunction(&function, kernel));
  auto outcome = cuda::DeviceBuffer::allocate(api, sizeof(DeviceCompareOutcome));
  if (!outcome) return outcome.error();
  return std::unique_ptr<DeviceComparer>(
      new DeviceComparer(api, std::move(loaded), function, std::move(*outcome), std::max(multiprocessors, 1)));
}

Status DeviceComparer::enqueue(CUstream stream, ElementType type, CUdeviceptr expected, CUdeviceptr got, std::uint64_t count,
                               double rtol, double atol) {
  // mismatches 0, first_mismatch all ones, both maxima 0 (the bits of +0.0).
  KTUNE_CU_TRY(api_, cuMemsetD32Async(outcome_.get(), 0, sizeof(DeviceCompareOutcome) / 4, stream));
  KTUNE_CU_TRY(api_, cuMemsetD32Async(outcome_.get() + offsetof(DeviceCompareOutcome, first_mismatch), 0xffffffffu, 2, stream));
  if (count == 0) return Ok{};
  constexpr unsigned kThreads = 256;
  // Enough blocks to fill the GPU; each thread strides over the rest.
  const std::uint64_t wanted = (count + kThreads - 1) / kThreads;
  const unsigned blocks = static_cast<unsigned>(std::min<std::uint64_t>(wanted, static_cast<std::uint64_t>(multiprocessors_) * 8));
  int type_code = static_cast<int>(type);
  CUdeviceptr outcome = outcome_.get();
  void* params[] = {&expected, &got, &count, &type_code, &rtol, &atol, &outcome};
  KTUNE_CU_TRY(api_, cuLaunchKernel(function_, blocks, 1, 1, kThreads, 1, 1, 0, stream, params, nullptr));
  return Ok{};
}

Result<Comparison> DeviceComparer::read(ElementType type, CUdeviceptr expected, CUdeviceptr got, std::uint64_t count) {
  DeviceCompareOutcome outcome;
  KTUNE_CU_TRY(api_, cuMemcpyDtoH(&outcome, outcome_.get(), sizeof outcome));
  Comparison c;
  c.compared = count;
  c.mismatches = outcome.mismatches;
  c.max_abs_error = std::bit_cast<double>(outcome.max_abs_error_bits);
  c.max_rel_error = std::bit_cast<double>(outcome.max_rel_error_bits);
  if (c.mismatches > 0 && outcome.first_mismatch < count) {
    c.first_mismatch = outcome.first_mismatch;
    const std::size_t size = element_size(type);
    std::vector<std::byte> at(2 * size);
    KTUNE_CU_TRY(api_, cuMemcpyDtoH(at.data(), expected + c.first_mismatch * size, size));
    KTUNE_CU_TRY(api_, cuMemcpyDtoH(at.data() + size, got + c.first_mismatch * size, size));
    c.expected_at_first = element_as_double(at.data(), type);
    c.got_at_first = element_as_double(at.data() + size, type);
  }
  return c;
}

}  // namespace ktune::runner
