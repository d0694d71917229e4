// ktune's NVRTC shim for CUTLASS 3.x/4.x, pre-included (--pre-include) into every compile of a spec
// whose compile.include_dirs names "@cutlass" (docs/spec.md "Packages"). Under NVRTC, CUTLASS maps
// the standard library onto libcu++ (cuda::std) but a few headers still spell std:: traits that
// NVRTC's built-in std lacks (checked with NVRTC 13.0 and nvidia-cutlass 4.2.0.0:
// sm90_epilogue_array_tma_warpspecialized.hpp uses std::is_pointer_v,
// linear_combination_bias_elementwise.h uses std::void_t).
#pragma once
#include <cuda/std/type_traits>
namespace std {
template <class T> inline constexpr bool is_pointer_v = cuda::std::is_pointer_v<T>;
template <class... T> using void_t = cuda::std::void_t<T...>;
}  // namespace std
