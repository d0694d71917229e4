#include "engine/common/element_type.hpp"

#include <limits>
#include <utility>

namespace ktune {

const char* element_type_name(ElementType type) noexcept {
  switch (type) {
    case ElementType::i8: return "int8";
    case ElementType::u8: return "uint8";
    case ElementType::i16: return "int16";
    case ElementType::u16: return "uint16";
    case ElementType::i32: return "int32";
    case ElementType::u32: return "uint32";
    case ElementType::i64: return "int64";
    case ElementType::u64: return "uint64";
    case ElementType::f16: return "half";
    case ElementType::bf16: return "bfloat16";
    case ElementType::f32: return "float";
    case ElementType::f64: return "double";
  }
  return "unknown";
}

std::size_t element_size(ElementType type) noexcept {
  switch (type) {
    case ElementType::i8: case ElementType::u8: return 1;
    case ElementType::i16: case ElementType::u16: case ElementType::f16: case ElementType::bf16: return 2;
    case ElementType::i32: case ElementType::u32: case ElementType::f32: return 4;
    case ElementType::i64: case ElementType::u64: case ElementType::f64: return 8;
  }
  return 0;
}

bool is_floating(ElementType type) noexcept {
  return type == ElementType::f16 || type == ElementType::bf16 || type == ElementType::f32 || type == ElementType::f64;
}

namespace {

template <class T>
std::pair<std::int64_t, std::int64_t> bounds() {
  return {static_cast<std::int64_t>(std::numeric_limits<T>::min()),
          std::numeric_limits<T>::max() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
              ? std::numeric_limits<std::int64_t>::max()
              : static_cast<std::int64_t>(std::numeric_limits<T>::max())};
}

std::pair<std::int64_t, std::int64_t> integer_bounds(ElementType type) {
  switch (type) {
    case ElementType::i8: return bounds<std::int8_t>();
    case ElementType::u8: return bounds<std::uint8_t>();
    case ElementType::i16: return bounds<std::int16_t>();
    case ElementType::u16: return bounds<std::uint16_t>();
    case ElementType::i32: return bounds<std::int32_t>();
    case ElementType::u32: return bounds<std::uint32_t>();
    case ElementType::u64: return bounds<std::uint64_t>();
    default: return bounds<std::int64_t>();
  }
}

}  // namespace

bool integer_fits(ElementType type, std::int64_t value) noexcept {
  if (is_floating(type)) return true;
  const auto [low, high] = integer_bounds(type);
  return value >= low && value <= high;
}

std::string integer_range_text(ElementType type) {
  const auto [low, high] = integer_bounds(type);
  // Expressions are 64-bit signed, so uint64's range as ktune can give it ends at 2^63 - 1.
  return std::to_string(low) + ".." + std::to_string(high);
}

}  // namespace ktune
