// Included first by gemm_sm90.cu: what CUTLASS 4.2 needs to be compiled by NVRTC for the device.
// Needs NVRTC's --device-int128 (below) and the CUDA toolkit's include/cccl on the include path.
#pragma once
#if defined(__CUDACC_RTC__)
// (std::is_pointer_v and std::void_t, which CUTLASS names in std, come from the shim that the
// "@cutlass" package pre-includes into every compile: tools/packages/cutlass_nvrtc_shim.h.)
// cutlass/uint128.h enables unsigned __int128 only for GCC on x86-64/aarch64; under NVRTC it falls
// back to a path whose 128/64 division executes `brkpt`. FastDivmodU64's constructor divides so
// (the persistent tile scheduler builds several in to_underlying_arguments, which the setup kernel
// runs on the device): any tile count that is not a power of two then kills the setup kernel.
// With --device-int128 NVRTC has __int128 on the device and defines __CUDACC_RTC_INT128__.
#if defined(__CUDACC_RTC_INT128__) && !defined(CUTLASS_UINT128_NATIVE)
#define CUTLASS_UINT128_NATIVE
#endif
#endif  // __CUDACC_RTC__
