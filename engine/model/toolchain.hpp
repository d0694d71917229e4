#pragma once
// What this build compiles with: the NVRTC library's version and the architectures it targets.
#include <string>
#include <vector>

#include "engine/model/key.hpp"

namespace ktune {

Toolchain current_toolchain();                 // nvrtc_version "13.0"
std::vector<int> nvrtc_supported_archs();      // {75, 80, 86, 89, 90, 100, ...}

}  // namespace ktune
