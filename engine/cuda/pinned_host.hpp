#pragma once
// Page-locked host memory (cuMemAllocHost): where outputs are read back for verification, because
// pageable copies of tens of MiB cost more than the kernel being verified. Freed by its destructor.
#include <cstddef>
#include <span>

#include "engine/cuda/driver_check.hpp"
#include "engine/cuda/unique_handle.hpp"

namespace ktune::cuda {

struct PinnedAllocation {
  void* ptr = nullptr;
  std::size_t bytes = 0;  // usable bytes (the allocation may be larger)
  friend bool operator==(const PinnedAllocation&, const PinnedAllocation&) = default;
};

inline void free_pinned_allocation(const DriverApi& api, PinnedAllocation allocation) noexcept {
  if (allocation.ptr) (void)api.cuMemFreeHost(allocation.ptr);
}

class PinnedHost : public UniqueHandle<PinnedAllocation, &free_pinned_allocation> {
 public:
  // `bytes` usable bytes in an allocation of at least `allocated` (a zero-sized output still gets
  // a valid allocation).
  static Result<PinnedHost> allocate(const DriverApi& api, std::size_t bytes, std::size_t allocated) {
    void* ptr = nullptr;
    KTUNE_CU_TRY(api, cuMemAllocHost(&ptr, allocated < bytes ? bytes : allocated));
    return PinnedHost(&api, ptr, bytes);
  }

  PinnedHost() = default;
  PinnedHost(const DriverApi* api, void* ptr, std::size_t bytes) noexcept : UniqueHandle(api, {ptr, bytes}) {}

  std::span<std::byte> bytes() const noexcept { return {static_cast<std::byte*>(handle().ptr), handle().bytes}; }
};

}  // namespace ktune::cuda
