#include "engine/runner/launch_plan.hpp"

#include <cstring>

#include "engine/runner/host_data.hpp"

namespace ktune::runner {

namespace {

template <class T>
void append(std::vector<std::byte>& out, T value) {
  std::byte raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.insert(out.end(), raw, raw + sizeof(T));
}

}  // namespace

std::vector<std::byte> ScalarArg::bytes() const {
  std::vector<std::byte> out;
  const double f = is_floating ? floating : static_cast<double>(integer);
  switch (type) {
    case ElementType::f32: append(out, static_cast<float>(f)); break;
    case ElementType::f64: append(out, f); break;
    case ElementType::f16: append(out, float_to_half(static_cast<float>(f))); break;
    case ElementType::bf16: append(out, float_to_bfloat16(static_cast<float>(f))); break;
    case ElementType::i8: append(out, static_cast<std::int8_t>(integer)); break;
    case ElementType::u8: append(out, static_cast<std::uint8_t>(integer)); break;
    case ElementType::i16: append(out, static_cast<std::int16_t>(integer)); break;
    case ElementType::u16: append(out, static_cast<std::uint16_t>(integer)); break;
    case ElementType::i32: append(out, static_cast<std::int32_t>(integer)); break;
    case ElementType::u32: append(out, static_cast<std::uint32_t>(integer)); break;
    case ElementType::i64: append(out, integer); break;
    case ElementType::u64: append(out, static_cast<std::uint64_t>(integer)); break;
  }
  return out;
}

}  // namespace ktune::runner
