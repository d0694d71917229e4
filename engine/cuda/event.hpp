#pragma once
// A CUDA event (cuEventCreate); destroyed by its destructor.
#include "engine/cuda/driver_check.hpp"
#include "engine/cuda/unique_handle.hpp"

namespace ktune::cuda {

class Event : public UniqueHandle<CUevent, &DriverApi::cuEventDestroy> {
 public:
  static Result<Event> create(const DriverApi& api, unsigned flags) {
    CUevent event = nullptr;
    KTUNE_CU_TRY(api, cuEventCreate(&event, flags));
    return Event(&api, event);
  }

  Event() = default;
  CUevent get() const noexcept { return handle(); }

 private:
  Event(const DriverApi* api, CUevent event) noexcept : UniqueHandle(api, event) {}
};

}  // namespace ktune::cuda
