#pragma once
// Page-locked host memory (cuMemAllocHost): where outputs are read back for verification, because
// pageable copies of tens of MiB cost more than the kernel being verified. Freed by its destructor.
#include <cstddef>
#include <span>
#include <utility>

#include "engine/cuda/driver_check.hpp"

namespace ktune::cuda {

class PinnedHost {
 public:
  // `bytes` usable bytes in an allocation of at least `allocated` (a zero-sized output still gets
  // a valid allocation).
  static Result<PinnedHost> allocate(const DriverApi& api, std::size_t bytes, std::size_t allocated) {
    void* ptr = nullptr;
    KTUNE_CU_TRY(api, cuMemAllocHost(&ptr, allocated < bytes ? bytes : allocated));
    return PinnedHost(&api, ptr, bytes);
  }

  PinnedHost() = default;
  PinnedHost(const DriverApi* api, void* ptr, std::size_t bytes) noexcept : api_(api), ptr_(ptr), bytes_(bytes) {}
  PinnedHost(PinnedHost&& o) noexcept : api_(o.api_), ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  PinnedHost& operator=(PinnedHost&& o) noexcept {
    if (this != &o) {
      reset();
      api_ = o.api_;
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  PinnedHost(const PinnedHost&) = delete;
  PinnedHost& operator=(const PinnedHost&) = delete;
  ~PinnedHost() { reset(); }

  std::span<std::byte> bytes() const noexcept { return {static_cast<std::byte*>(ptr_), bytes_}; }
  void reset() noexcept {
    if (ptr_) (void)api_->cuMemFreeHost(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
  }

 private:
  const DriverApi* api_ = nullptr;
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace ktune::cuda
