#pragma once
// One device allocation (cuMemAlloc); freed by its destructor.
#include <cstddef>
#include <utility>

#include "engine/cuda/driver_check.hpp"

namespace ktune::cuda {

class DeviceBuffer {
 public:
  static Result<DeviceBuffer> allocate(const DriverApi& api, std::size_t bytes) {
    CUdeviceptr ptr = 0;
    KTUNE_CU_TRY(api, cuMemAlloc(&ptr, bytes));
    return DeviceBuffer(&api, ptr, bytes);
  }

  DeviceBuffer() = default;
  DeviceBuffer(const DriverApi* api, CUdeviceptr ptr, std::size_t bytes) noexcept : api_(api), ptr_(ptr), bytes_(bytes) {}
  DeviceBuffer(DeviceBuffer&& o) noexcept : api_(o.api_), ptr_(std::exchange(o.ptr_, 0)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      api_ = o.api_;
      ptr_ = std::exchange(o.ptr_, 0);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { reset(); }

  CUdeviceptr get() const noexcept { return ptr_; }
  std::size_t bytes() const noexcept { return bytes_; }
  // The result of cuMemFree is dropped: after a sticky error it fails, and the process is ending.
  void reset() noexcept {
    if (ptr_) (void)api_->cuMemFree(ptr_);
    ptr_ = 0;
    bytes_ = 0;
  }

 private:
  const DriverApi* api_ = nullptr;
  CUdeviceptr ptr_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace ktune::cuda
