#pragma once
// A retained primary context of one device (cuDevicePrimaryCtxRetain; CUDA 13's cuCtxCreate is
// _v4, and the primary context is what every other library in the process shares). Released by
// its destructor.
#include "engine/cuda/driver_check.hpp"
#include "engine/cuda/unique_handle.hpp"

namespace ktune::cuda {

struct RetainedContext {
  CUdevice device = 0;
  CUcontext context = nullptr;
  friend bool operator==(const RetainedContext&, const RetainedContext&) = default;
};

inline void release_primary_context(const DriverApi& api, RetainedContext retained) noexcept {
  if (retained.context) (void)api.cuDevicePrimaryCtxRelease(retained.device);
}

class PrimaryContext : public UniqueHandle<RetainedContext, &release_primary_context> {
 public:
  // Retains the primary context of `ordinal` and makes it current on the calling thread.
  static Result<PrimaryContext> retain(const DriverApi& api, int ordinal) {
    CUdevice device = 0;
    KTUNE_CU_TRY(api, cuDeviceGet(&device, ordinal));
    CUcontext context = nullptr;
    KTUNE_CU_TRY(api, cuDevicePrimaryCtxRetain(&context, device));
    PrimaryContext retained(&api, {device, context});  // released on the error path below too
    KTUNE_CU_TRY(api, cuCtxSetCurrent(context));
    return retained;
  }

  PrimaryContext() = default;

  CUdevice device() const noexcept { return handle().device; }
  CUcontext get() const noexcept { return handle().context; }

 private:
  PrimaryContext(const DriverApi* api, RetainedContext retained) noexcept : UniqueHandle(api, retained) {}
};

}  // namespace ktune::cuda
