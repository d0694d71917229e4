#include "engine/common/element_type.hpp"

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

}  // namespace ktune
