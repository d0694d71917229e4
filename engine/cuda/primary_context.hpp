#pragma once
// A retained primary context of one device (cuDevicePrimaryCtxRetain; CUDA 13's cuCtxCreate is
// _v4, and the primary context is what every other library in the process shares). Released by
// its destructor.
#include <utility>

#include "engine/cuda/driver_check.hpp"

namespace ktune::cuda {

class PrimaryContext {
 public:
  // Retains the primary context of `ordinal` and makes it current on the calling thread.
  static Result<PrimaryContext> retain(const DriverApi& api, int ordinal) {
    CUdevice device = 0;
    KTUNE_CU_TRY(api, cuDeviceGet(&device, ordinal));
    CUcontext context = nullptr;
    KTUNE_CU_TRY(api, cuDevicePrimaryCtxRetain(&context, device));
    PrimaryContext retained(&api, device, context);  // released on the error path below too
    KTUNE_CU_TRY(api, cuCtxSetCurrent(context));
    return retained;
  }

  PrimaryContext() = default;
  PrimaryContext(PrimaryContext&& o) noexcept
      : api_(o.api_), device_(o.device_), context_(std::exchange(o.context_, nullptr)) {}
  PrimaryContext& operator=(PrimaryContext&& o) noexcept {
    if (this != &o) {
      reset();
      api_ = o.api_;
      device_ = o.device_;
      context_ = std::exchange(o.context_, nullptr);
    }
    return *this;
  }
  PrimaryContext(const PrimaryContext&) = delete;
  PrimaryContext& operator=(const PrimaryContext&) = delete;
  ~PrimaryContext() { reset(); }

  CUdevice device() const noexcept { return device_; }
  CUcontext get() const noexcept { return context_; }
  void reset() noexcept {
    if (context_) (void)api_->cuDevicePrimaryCtxRelease(device_);
    context_ = nullptr;
  }

 private:
  PrimaryContext(const DriverApi* api, CUdevice device, CUcontext context) noexcept
      : api_(api), device_(device), context_(context) {}
  const DriverApi* api_ = nullptr;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
};

}  // namespace ktune::cuda
