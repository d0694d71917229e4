#pragma once
// A loaded cubin (cuLibraryLoadData: context-independent, loaded lazily); unloaded by its destructor.
#include <utility>

#include "engine/cuda/driver_api.hpp"

namespace ktune::cuda {

class LoadedLibrary {
 public:
  LoadedLibrary() = default;
  LoadedLibrary(const DriverApi* api, CUlibrary library) noexcept : api_(api), library_(library) {}
  LoadedLibrary(LoadedLibrary&& o) noexcept : api_(o.api_), library_(std::exchange(o.library_, nullptr)) {}
  LoadedLibrary& operator=(LoadedLibrary&& o) noexcept {
    if (this != &o) {
      reset();
      api_ = o.api_;
      library_ = std::exchange(o.library_, nullptr);
    }
    return *this;
  }
  LoadedLibrary(const LoadedLibrary&) = delete;
  LoadedLibrary& operator=(const LoadedLibrary&) = delete;
  ~LoadedLibrary() { reset(); }

  CUlibrary get() const noexcept { return library_; }
  void reset() noexcept {
    if (library_) (void)api_->cuLibraryUnload(library_);
    library_ = nullptr;
  }

 private:
  const DriverApi* api_ = nullptr;
  CUlibrary library_ = nullptr;
};

}  // namespace ktune::cuda
