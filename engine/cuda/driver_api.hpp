#pragma once
// The CUDA driver API, loaded at run time. `DriverApi::load()` dlopens libcuda.so.1 once per
// process, calls cuInit, and fetches versioned entry points through cuGetProcAddress. Where
// there is no driver it returns Errc::no_gpu with the reason; nothing crashes.
#include <cuda.h>

#include <string>
#include <vector>

#include "engine/common/result.hpp"

namespace ktune::cuda {

struct DriverApi {
  int driver_version = 0;  // e.g. 13000

  CUresult (*cuGetErrorString)(CUresult, const char**) = nullptr;
  CUresult (*cuDeviceGetCount)(int*) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice*, int) = nullptr;
  CUresult (*cuDeviceGetName)(char*, int, CUdevice) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int*, CUdevice_attribute, CUdevice) = nullptr;
  CUresult (*cuDeviceTotalMem)(std::size_t*, CUdevice) = nullptr;

  // The process-wide instance; loaded on first call, the outcome (success or why not) is kept.
  static Result<const DriverApi*> load();

  std::string error_text(CUresult result) const;
};

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  std::string arch;  // "sm_90"
  int multiprocessors = 0;
  std::size_t total_memory = 0;
  int l2_cache_bytes = 0;
  int max_shared_memory_per_block_optin = 0;
  int max_threads_per_block = 0;
  int clock_khz = 0;
};

// Every visible device, or Errc::no_gpu (no driver, or a driver with no devices).
Result<std::vector<DeviceInfo>> list_devices();

}  // namespace ktune::cuda
