#pragma once
// One device allocation (cuMemAlloc); freed by its destructor.
#include <cstddef>

#include "engine/cuda/driver_check.hpp"
#include "engine/cuda/unique_handle.hpp"

namespace ktune::cuda {

struct DeviceAllocation {
  CUdeviceptr ptr = 0;
  std::size_t bytes = 0;
  friend bool operator==(const DeviceAllocation&, const DeviceAllocation&) = default;
};

// The result of cuMemFree is dropped: after a sticky error it fails, and the process is ending.
inline void free_device_allocation(const DriverApi& api, DeviceAllocation allocation) noexcept {
  if (allocation.ptr) (void)api.cuMemFree(allocation.ptr);
}

class DeviceBuffer : public UniqueHandle<DeviceAllocation, &free_device_allocation> {
 public:
  static Result<DeviceBuffer> allocate(const DriverApi& api, std::size_t bytes) {
    CUdeviceptr ptr = 0;
    KTUNE_CU_TRY(api, cuMemAlloc(&ptr, bytes));
    return DeviceBuffer(&api, ptr, bytes);
  }

  DeviceBuffer() = default;
  DeviceBuffer(const DriverApi* api, CUdeviceptr ptr, std::size_t bytes) noexcept : UniqueHandle(api, {ptr, bytes}) {}

  CUdeviceptr get() const noexcept { return handle().ptr; }
  std::size_t bytes() const noexcept { return handle().bytes; }
};

}  // namespace ktune::cuda
