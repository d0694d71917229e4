// Output verification on the GPU (issue #13): compares a configuration's output with the
// reference output kept on the device, so a 64 MiB output is not read back to the host for every
// configuration. The same rule as compare_buffers (engine/runner/host_data.hpp): NaN matches only
// NaN, an infinity only the same infinity, otherwise |got - ref| <= atol + rtol * |ref|, in double.
// Compiled to PTX once (generate.sh) and embedded in the runner (device_compare_ptx.cpp): the
// runner has no NVRTC, the driver JIT-compiles the PTX for the GPU at hand.

struct CompareOutcome {
  unsigned long long mismatches;
  unsigned long long first_mismatch;  // ULLONG_MAX when none
  unsigned long long max_abs_error;   // the bits of a non-negative double: ordered like integers
  unsigned long long max_rel_error;
};

// The element types of engine/common/element_type.hpp, in its order.
enum ElementCode { i8, u8, i16, u16, i32, u32, i64, u64, f16, bf16, f32, f64 };

__device__ float half_bits_to_float(unsigned short h) {
  const unsigned sign = (static_cast<unsigned>(h) & 0x8000u) << 16;
  const unsigned exponent = (h >> 10) & 0x1fu;
  const unsigned mantissa = h & 0x3ffu;
  if (exponent == 0) {
    const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);  // subnormal: m * 2^-24
    return sign ? -magnitude : magnitude;
  }
  const unsigned bits = exponent == 31 ? (sign | 0x7f800000u | (mantissa << 13)) : (sign | ((exponent + 112) << 23) | (mantissa << 13));
  return __uint_as_float(bits);
}

__device__ double load_element(const unsigned char* base, unsigned long long i, int type) {
  switch (type) {
    case i8: return static_cast<double>(reinterpret_cast<const signed char*>(base)[i]);
    case u8: return static_cast<double>(base[i]);
    case i16: return static_cast<double>(reinterpret_cast<const short*>(base)[i]);
    case u16: return static_cast<double>(reinterpret_cast<const unsigned short*>(base)[i]);
    case i32: return static_cast<double>(reinterpret_cast<const int*>(base)[i]);
    case u32: return static_cast<double>(reinterpret_cast<const unsigned*>(base)[i]);
    case i64: return static_cast<double>(reinterpret_cast<const long long*>(base)[i]);
    case u64: return static_cast<double>(reinterpret_cast<const unsigned long long*>(base)[i]);
    case f16: return static_cast<double>(half_bits_to_float(reinterpret_cast<const unsigned short*>(base)[i]));
    case bf16:
      return static_cast<double>(__uint_as_float(static_cast<unsigned>(reinterpret_cast<const unsigned short*>(base)[i]) << 16));
    case f32: return static_cast<double>(reinterpret_cast<const float*>(base)[i]);
    default: return reinterpret_cast<const double*>(base)[i];
  }
}

__device__ bool is_nan(double x) { return (static_cast<unsigned long long>(__double_as_longlong(x)) & 0x7fffffffffffffffull) > 0x7ff0000000000000ull; }
__device__ bool is_inf(double x) { return (static_cast<unsigned long long>(__double_as_longlong(x)) & 0x7fffffffffffffffull) == 0x7ff0000000000000ull; }

extern "C" __global__ void ktune_compare(const unsigned char* expected, const unsigned char* got, unsigned long long count,
                                         int type, double rtol, double atol, CompareOutcome* outcome) {
  unsigned long long mismatches = 0, first = ~0ull;
  double max_abs = 0, max_rel = 0;
  const unsigned long long stride = static_cast<unsigned long long>(gridDim.x) * blockDim.x;
  for (unsigned long long i = static_cast<unsigned long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    const double e = load_element(expected, i, type);
    const double g = load_element(got, i, type);
    bool match;
    if (is_nan(e) || is_nan(g)) {
      match = is_nan(e) && is_nan(g);
    } else if (is_inf(e) || is_inf(g)) {
      match = e == g;
    } else {
      const double abs_error = fabs(g - e);
      match = abs_error <= atol + rtol * fabs(e);
      max_abs = fmax(max_abs, abs_error);
      if (e != 0) max_rel = fmax(max_rel, abs_error / fabs(e));
    }
    if (!match) {
      ++mismatches;
      if (i < first) first = i;
    }
  }
  // One atomic per warp, not per thread.
  for (int offset = 16; offset > 0; offset /= 2) {
    mismatches += __shfl_down_sync(0xffffffffu, mismatches, offset);
    first = min(first, __shfl_down_sync(0xffffffffu, first, offset));
    max_abs = fmax(max_abs, __shfl_down_sync(0xffffffffu, max_abs, offset));
    max_rel = fmax(max_rel, __shfl_down_sync(0xffffffffu, max_rel, offset));
  }
  if ((threadIdx.x & 31) == 0) {
    if (mismatches) {
      atomicAdd(&outcome->mismatches, mismatches);
      atomicMin(&outcome->first_mismatch, first);
    }
    atomicMax(&outcome->max_abs_error, static_cast<unsigned long long>(__double_as_longlong(max_abs)));
    atomicMax(&outcome->max_rel_error, static_cast<unsigned long long>(__double_as_longlong(max_rel)));
  }
}
