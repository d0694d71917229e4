#include "engine/model/toolchain.hpp"

#include <nvrtc.h>

namespace ktune {

Toolchain current_toolchain() {
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) != NVRTC_SUCCESS) return Toolchain{"unknown"};
  return Toolchain{std::to_string(major) + "." + std::to_string(minor)};
}

std::vector<int> nvrtc_supported_archs() {
  int count = 0;
  if (nvrtcGetNumSupportedArchs(&count) != NVRTC_SUCCESS || count <= 0) return {};
  std::vector<int> archs(static_cast<std::size_t>(count));
  if (nvrtcGetSupportedArchs(archs.data()) != NVRTC_SUCCESS) return {};
  return archs;
}

}  // namespace ktune
