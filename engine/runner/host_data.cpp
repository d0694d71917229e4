#include "engine/runner/host_data.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "engine/runner/parallel_chunks.hpp"

namespace ktune::runner {

namespace {

std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// 64 random bits for element `index` (and a second stream for `lane` 1, used by normal data).
std::uint64_t element_bits(std::uint64_t seed, std::uint64_t index, std::uint64_t lane = 0) noexcept {
  return splitmix64(seed ^ (index * 0xd1b54a32d192ed03ULL) ^ (lane * 0x8cb92ba72f3d8dd7ULL));
}

double unit_interval(std::uint64_t bits) noexcept { return static_cast<double>(bits >> 11) * 0x1.0p-53; }  // [0, 1)

double element_value(const BufferInit& init, std::uint64_t index) noexcept {
  switch (init.kind) {
    case BufferInit::Kind::zeros: return 0.0;
    case BufferInit::Kind::constant: return init.value;
    case BufferInit::Kind::iota: return static_cast<double>(index);
    case BufferInit::Kind::random: return init.low + (init.high - init.low) * unit_interval(element_bits(init.seed, index));
    case BufferInit::Kind::normal: {
      // Box-Muller from two uniforms of this element alone, so any element can be computed on its own.
      const double u1 = 1.0 - unit_interval(element_bits(init.seed, index));  // (0, 1]: log is finite
      const double u2 = unit_interval(element_bits(init.seed, index, 1));
      return init.mean + init.stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
    }
    case BufferInit::Kind::integers:  // filled by integer_value (exact for 64-bit values)
    case BufferInit::Kind::file:
    case BufferInit::Kind::copy: return 0.0;
  }
  return 0.0;
}

// Uniform in [int_low, int_high] (the parser checks low <= high). The multiply-shift maps 64
// random bits onto the range without a loop; its bias is below 2^-64 * range, far under any
// statistical effect a benchmark could see.
__extension__ using Uint128 = unsigned __int128;

std::int64_t integer_value(const BufferInit& init, std::uint64_t index) noexcept {
  const std::uint64_t range = static_cast<std::uint64_t>(init.int_high) - static_cast<std::uint64_t>(init.int_low) + 1;
  const std::uint64_t bits = element_bits(init.seed, index);
  const std::uint64_t offset =
      range == 0 ? bits : static_cast<std::uint64_t>((static_cast<Uint128>(bits) * range) >> 64);
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(init.int_low) + offset);
}

template <class T>
void store(std::byte* at, T value) noexcept {
  std::memcpy(at, &value, sizeof value);
}

template <class T>
T load(const std::byte* at) noexcept {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

template <class Int>
Int to_integer(double v) noexcept {
  // Random integer data is the floor of the uniform value; out-of-range values saturate.
  double f = std::floor(v);
  if (f <= static_cast<double>(std::numeric_limits<Int>::min())) return std::numeric_limits<Int>::min();
  if (f >= static_cast<double>(std::numeric_limits<Int>::max())) return std::numeric_limits<Int>::max();
  return static_cast<Int>(f);
}

template <class Int>
Int saturate(std::int64_t v) noexcept {
  if constexpr (std::is_signed_v<Int>) {
    if (v < static_cast<std::int64_t>(std::numeric_limits<Int>::min())) return std::numeric_limits<Int>::min();
  } else {
    if (v < 0) return 0;
  }
  if (static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<Int>::max()) && v > 0)
    return std::numeric_limits<Int>::max();
  return static_cast<Int>(v);
}

void store_integer(std::byte* at, ElementType type, std::int64_t v) noexcept {
  switch (type) {
    case ElementType::i8: store(at, saturate<std::int8_t>(v)); break;
    case ElementType::u8: store(at, saturate<std::uint8_t>(v)); break;
    case ElementType::i16: store(at, saturate<std::int16_t>(v)); break;
    case ElementType::u16: store(at, saturate<std::uint16_t>(v)); break;
    case ElementType::i32: store(at, saturate<std::int32_t>(v)); break;
    case ElementType::u32: store(at, saturate<std::uint32_t>(v)); break;
    case ElementType::i64: store(at, v); break;
    case ElementType::u64: store(at, saturate<std::uint64_t>(v)); break;
    case ElementType::f32: store(at, static_cast<float>(v)); break;
    case ElementType::f64: store(at, static_cast<double>(v)); break;
    case ElementType::f16: store(at, float_to_half(static_cast<float>(v))); break;
    case ElementType::bf16: store(at, float_to_bfloat16(static_cast<float>(v))); break;
  }
}

void store_element(std::byte* at, ElementType type, double v) noexcept {
  switch (type) {
    case ElementType::f32: store(at, static_cast<float>(v)); break;
    case ElementType::f64: store(at, v); break;
    case ElementType::f16: store(at, float_to_half(static_cast<float>(v))); break;
    case ElementType::bf16: store(at, float_to_bfloat16(static_cast<float>(v))); break;
    case ElementType::i8: store(at, to_integer<std::int8_t>(v)); break;
    case ElementType::u8: store(at, to_integer<std::uint8_t>(v)); break;
    case ElementType::i16: store(at, to_integer<std::int16_t>(v)); break;
    case ElementType::u16: store(at, to_integer<std::uint16_t>(v)); break;
    case ElementType::i32: store(at, to_integer<std::int32_t>(v)); break;
    case ElementType::u32: store(at, to_integer<std::uint32_t>(v)); break;
    case ElementType::i64: store(at, to_integer<std::int64_t>(v)); break;
    case ElementType::u64: store(at, to_integer<std::uint64_t>(v)); break;
  }
}


}  // namespace

double element_as_double(const std::byte* at, ElementType type) noexcept {
  switch (type) {
    case ElementType::f32: return load<float>(at);
    case ElementType::f64: return load<double>(at);
    case ElementType::f16: return half_to_float(load<std::uint16_t>(at));
    case ElementType::bf16: return bfloat16_to_float(load<std::uint16_t>(at));
    case ElementType::i8: return load<std::int8_t>(at);
    case ElementType::u8: return load<std::uint8_t>(at);
    case ElementType::i16: return load<std::int16_t>(at);
    case ElementType::u16: return load<std::uint16_t>(at);
    case ElementType::i32: return load<std::int32_t>(at);
    case ElementType::u32: return load<std::uint32_t>(at);
    case ElementType::i64: return static_cast<double>(load<std::int64_t>(at));
    case ElementType::u64: return static_cast<double>(load<std::uint64_t>(at));
  }
  return 0.0;
}

std::uint16_t float_to_half(float value) noexcept {
  const std::uint32_t f = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (f >> 16) & 0x8000u;
  const std::uint32_t abs = f & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<std::uint16_t>(sign | (abs > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds past 65504
  if (abs < 0x38800000u) {  // subnormal half (or zero)
    if (abs < 0x33000000u) return static_cast<std::uint16_t>(sign);
    const std::uint32_t exponent = abs >> 23;
    const std::uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - exponent;  // 14..24
    std::uint32_t half = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t half = ((abs - 0x38000000u) >> 13);
  const std::uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) ++half;
  return static_cast<std::uint16_t>(sign | half);
}

float half_to_float(std::uint16_t bits) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  const std::uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    float v = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -v : v;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

std::uint16_t float_to_bfloat16(float value) noexcept {
  std::uint32_t f = std::bit_cast<std::uint32_t>(value);
  if ((f & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((f >> 16) | 0x40u);  // quiet NaN
  f += 0x7fffu + ((f >> 16) & 1u);
  return static_cast<std::uint16_t>(f >> 16);
}

float bfloat16_to_float(std::uint16_t bits) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

void fill_buffer(std::span<std::byte> out, ElementType type, const BufferInit& init) {
  const std::size_t size = element_size(type);
  const std::uint64_t count = out.size() / size;
  if (init.kind == BufferInit::Kind::file || init.kind == BufferInit::Kind::copy) return;
  if (init.kind == BufferInit::Kind::zeros) {
    std::memset(out.data(), 0, out.size());
    return;
  }
  const bool integers = init.kind == BufferInit::Kind::integers;
  parallel_chunks(
      count, 1 << 16, 0,
      [&](std::uint64_t begin, std::uint64_t end) {
        for (std::uint64_t i = begin; i != end; ++i) {
          if (integers) store_integer(out.data() + i * size, type, integer_value(init, i));
          else store_element(out.data() + i * size, type, element_value(init, i));
        }
        return 0;
      },
      [](int, int) { return 0; });
}

Status fill_input(std::span<std::byte> out, ElementType type, const BufferInit& init) {
  if (init.kind == BufferInit::Kind::copy)
    return make_error(Errc::internal, "a copy of another buffer is made by the caller, not fill_input");
  if (init.kind != BufferInit::Kind::file) {
    fill_buffer(out, type, init);
    return Ok{};
  }
  return load_data_file(init.file.path, init.file.format, type, out, init.file.digest);
}

namespace {

// One chunk of the comparison; chunks are merged in index order so "first mismatch" is exact.
Comparison compare_range(ElementType type, const std::byte* expected, const std::byte* got, std::uint64_t begin,
                         std::uint64_t end, double rtol, double atol) {
  Comparison c;
  const std::size_t size = element_size(type);
  c.compared = end - begin;
  for (std::uint64_t i = begin; i < end; ++i) {
    const double e = element_as_double(expected + i * size, type);
    const double g = element_as_double(got + i * size, type);
    bool match;
    if (std::isnan(e) || std::isnan(g)) {
      match = std::isnan(e) && std::isnan(g);
    } else if (std::isinf(e) || std::isinf(g)) {
      match = e == g;
    } else {
      const double abs_error = std::fabs(g - e);
      match = abs_error <= atol + rtol * std::fabs(e);
      c.max_abs_error = std::max(c.max_abs_error, abs_error);
      if (e != 0) c.max_rel_error = std::max(c.max_rel_error, abs_error / std::fabs(e));
    }
    if (!match) {
      if (c.mismatches == 0) {
        c.first_mismatch = i;
        c.expected_at_first = e;
        c.got_at_first = g;
      }
      ++c.mismatches;
    }
  }
  return c;
}

Comparison merge(Comparison a, const Comparison& b) {
  if (a.mismatches == 0 || (b.mismatches > 0 && b.first_mismatch < a.first_mismatch)) {
    if (b.mismatches > 0) {
      a.first_mismatch = b.first_mismatch;
      a.expected_at_first = b.expected_at_first;
      a.got_at_first = b.got_at_first;
    }
  }
  a.compared += b.compared;
  a.mismatches += b.mismatches;
  a.max_abs_error = std::max(a.max_abs_error, b.max_abs_error);
  a.max_rel_error = std::max(a.max_rel_error, b.max_rel_error);
  return a;
}

}  // namespace

Comparison compare_buffers(ElementType type, std::span<const std::byte> expected, std::span<const std::byte> got,
                           double rtol, double atol) {
  const std::size_t size = element_size(type);
  if (expected.size() != got.size()) {
    Comparison c;
    c.mismatches = 1;
    return c;
  }
  const std::uint64_t count = expected.size() / size;
  // Configurations that sum in the same order produce identical bits: no element needs a look.
  // (NaN payloads compare equal bitwise too, which is what NaN-matches-NaN means here.)
  if (std::memcmp(expected.data(), got.data(), expected.size()) == 0) {
    Comparison c;
    c.compared = count;
    return c;
  }
  // Outputs of large problems are tens of millions of elements: compare them on every core.
  return parallel_chunks(
      count, 1 << 16, Comparison{},
      [&](std::uint64_t begin, std::uint64_t end) {
        return compare_range(type, expected.data(), got.data(), begin, end, rtol, atol);
      },
      [](Comparison a, const Comparison& b) { return merge(a, b); });
}

}  // namespace ktune::runner
