#pragma once
// A loaded cubin (cuLibraryLoadData: context-independent, loaded lazily); unloaded by its destructor.
#include "engine/cuda/driver_api.hpp"
#include "engine/cuda/unique_handle.hpp"

namespace ktune::cuda {

class LoadedLibrary : public UniqueHandle<CUlibrary, &DriverApi::cuLibraryUnload> {
 public:
  using UniqueHandle::UniqueHandle;  // (api, library): takes ownership
  CUlibrary get() const noexcept { return handle(); }
};

}  // namespace ktune::cuda
