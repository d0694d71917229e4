#pragma once
// The CUDA driver API, loaded at run time. `DriverApi::load()` dlopens libcuda.so.1 once per
// process, calls cuInit, and fetches every entry point below through cuGetProcAddress for the ABI
// of the cuda.h we compile against (CUDA_VERSION). Where there is no driver it returns
// Errc::no_gpu with the reason; nothing crashes and no binary links -lcuda.
#include <cuda.h>

#include <string>
#include <vector>

#include "engine/common/result.hpp"

namespace ktune::cuda {

// X-macro of the driver functions ktune uses. cuda.h maps some names to versioned symbols
// (cuMemAlloc -> cuMemAlloc_v2); the member takes the mapped name, the lookup string the plain one.
#define KTUNE_DRIVER_FUNCTIONS(X)                                                                   \
  X(cuGetErrorString) X(cuGetErrorName) X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName)       \
  X(cuDeviceGetAttribute) X(cuDeviceTotalMem) X(cuDeviceGetPCIBusId) X(cuDevicePrimaryCtxRetain)    \
  X(cuDevicePrimaryCtxRelease) X(cuCtxSetCurrent) X(cuCtxSynchronize) X(cuMemGetInfo)               \
  X(cuStreamCreate) X(cuStreamDestroy) X(cuStreamSynchronize) X(cuStreamQuery) X(cuEventCreate)     \
  X(cuEventDestroy) X(cuEventQuery) X(cuEventRecord) X(cuEventSynchronize) X(cuEventElapsedTime) X(cuMemAlloc)      \
  X(cuMemFree) X(cuMemAllocHost) X(cuMemFreeHost) X(cuMemcpyHtoD) X(cuMemcpyDtoH) X(cuMemcpyDtoDAsync) X(cuMemsetD32Async)             \
  X(cuLibraryLoadData) X(cuLibraryUnload) X(cuLibraryGetKernel) X(cuKernelGetFunction) X(cuLibraryGetGlobal) \
  X(cuFuncGetAttribute) X(cuFuncSetAttribute) X(cuOccupancyMaxActiveBlocksPerMultiprocessor)        \
  X(cuLaunchKernel) X(cuLaunchKernelEx) X(cuOccupancyMaxActiveClusters) X(cuTensorMapEncodeTiled)

struct DriverApi {
  int driver_version = 0;  // e.g. 13000

#define KTUNE_DRIVER_MEMBER(name) decltype(&::name) name = nullptr;
  KTUNE_DRIVER_FUNCTIONS(KTUNE_DRIVER_MEMBER)
#undef KTUNE_DRIVER_MEMBER

  // The process-wide instance; loaded on first call, the outcome (success or why not) is kept.
  static Result<const DriverApi*> load();

  std::string error_text(CUresult result) const;  // "CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access..."
};

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  std::string pci_bus_id;
  int cc_major = 0, cc_minor = 0;
  std::string arch;  // "sm_90"
  int multiprocessors = 0;
  std::size_t total_memory = 0;
  int l2_cache_bytes = 0;
  int max_shared_memory_per_block = 0;        // without opting in (48 KiB)
  int max_shared_memory_per_block_optin = 0;  // with cuFuncSetAttribute (H100: 232448)
  int max_shared_memory_per_sm = 0;
  int max_registers_per_block = 0;
  int max_threads_per_block = 0;
  int max_threads_per_sm = 0;
  int max_block_dim[3] = {0, 0, 0};
  int max_grid_dim[3] = {0, 0, 0};
  int clock_khz = 0;
  int memory_clock_khz = 0;       // peak
  int memory_bus_width_bits = 0;
  // What the memory interface moves at most (double data rate): the bound a bandwidth figure is
  // judged against on any card (H100 SXM ~3.35 TB/s, H200 ~4.8 TB/s). 0 when the driver did not say.
  double peak_memory_bytes_per_second() const noexcept {
    return 2.0 * 1e3 * memory_clock_khz * (memory_bus_width_bits / 8.0);
  }
};

// Every visible device, or Errc::no_gpu (no driver, or a driver with no devices).
Result<std::vector<DeviceInfo>> list_devices();

}  // namespace ktune::cuda
