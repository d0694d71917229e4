#pragma once
namespace ktune {
// The library version (semantic); persisted with every measurement.
inline constexpr const char* kVersion = "0.1.0";
inline const char* version_string() noexcept { return kVersion; }
}  // namespace ktune
