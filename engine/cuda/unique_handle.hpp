#pragma once
// The one move-only owner behind every driver handle type of this folder (Event, Stream,
// LoadedLibrary, DeviceBuffer, PinnedHost, PrimaryContext): it holds the handle and the driver
// table it came from, and releases the handle in reset() and in its destructor. A moved-from or
// default-made owner holds Handle{} and releases nothing; release errors are dropped (after a
// sticky error they fail, and a destructor must not throw).
//
// `Release` is either the DriverApi member that releases a Handle (&DriverApi::cuEventDestroy) or
// a function `void(const DriverApi&, Handle) noexcept`, for handles that carry more than the
// driver's value (a buffer's size, a context's device).
#include <type_traits>
#include <utility>

#include "engine/cuda/driver_api.hpp"

namespace ktune::cuda {

template <typename Handle, auto Release>
class UniqueHandle {
 public:
  UniqueHandle() = default;
  // Takes ownership of `handle`, which `api` made.
  UniqueHandle(const DriverApi* api, Handle handle) noexcept : api_(api), handle_(handle) {}
  UniqueHandle(UniqueHandle&& o) noexcept : api_(o.api_), handle_(std::exchange(o.handle_, Handle{})) {}
  UniqueHandle& operator=(UniqueHandle&& o) noexcept {
    if (this != &o) {
      reset();
      api_ = o.api_;
      handle_ = std::exchange(o.handle_, Handle{});
    }
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  ~UniqueHandle() { reset(); }

  void reset() noexcept {
    if (handle_ != Handle{}) {
      if constexpr (std::is_member_object_pointer_v<decltype(Release)>)
        (void)(api_->*Release)(handle_);
      else
        Release(*api_, handle_);
    }
    handle_ = Handle{};
  }

 protected:
  const Handle& handle() const noexcept { return handle_; }

 private:
  const DriverApi* api_ = nullptr;
  Handle handle_{};
};

}  // namespace ktune::cuda
