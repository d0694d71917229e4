#pragma once
// CUPTI, loaded at run time like the driver. The GPU runner uses it for kernel timing; doctor uses
// it to say whether kernel-accurate timing is available.
#include <cstdint>
#include <string>

#include "engine/common/result.hpp"

namespace ktune::cuda {

struct CuptiLibrary {
  std::string path;        // the file that was loaded
  std::uint32_t api_version = 0;
  void* handle = nullptr;  // kept open for the process lifetime
};

// Tries libcupti.so.13, libcupti.so and the toolkit's lib64/extras folders.
Result<const CuptiLibrary*> load_cupti();

}  // namespace ktune::cuda
