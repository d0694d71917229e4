#pragma once
// A CUDA stream (cuStreamCreate); destroyed by its destructor.
#include "engine/cuda/driver_check.hpp"
#include "engine/cuda/unique_handle.hpp"

namespace ktune::cuda {

class Stream : public UniqueHandle<CUstream, &DriverApi::cuStreamDestroy> {
 public:
  static Result<Stream> create(const DriverApi& api, unsigned flags) {
    CUstream stream = nullptr;
    KTUNE_CU_TRY(api, cuStreamCreate(&stream, flags));
    return Stream(&api, stream);
  }

  Stream() = default;
  CUstream get() const noexcept { return handle(); }

 private:
  Stream(const DriverApi* api, CUstream stream) noexcept : UniqueHandle(api, stream) {}
};

}  // namespace ktune::cuda
