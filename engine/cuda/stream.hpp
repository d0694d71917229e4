#pragma once
// A CUDA stream (cuStreamCreate); destroyed by its destructor.
#include <utility>

#include "engine/cuda/driver_check.hpp"

namespace ktune::cuda {

class Stream {
 public:
  static Result<Stream> create(const DriverApi& api, unsigned flags) {
    CUstream stream = nullptr;
    KTUNE_CU_TRY(api, cuStreamCreate(&stream, flags));
    return Stream(&api, stream);
  }

  Stream() = default;
  Stream(Stream&& o) noexcept : api_(o.api_), stream_(std::exchange(o.stream_, nullptr)) {}
  Stream& operator=(Stream&& o) noexcept {
    if (this != &o) {
      reset();
      api_ = o.api_;
      stream_ = std::exchange(o.stream_, nullptr);
    }
    return *this;
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() { reset(); }

  CUstream get() const noexcept { return stream_; }
  void reset() noexcept {
    if (stream_) (void)api_->cuStreamDestroy(stream_);
    stream_ = nullptr;
  }

 private:
  Stream(const DriverApi* api, CUstream stream) noexcept : api_(api), stream_(stream) {}
  const DriverApi* api_ = nullptr;
  CUstream stream_ = nullptr;
};

}  // namespace ktune::cuda
