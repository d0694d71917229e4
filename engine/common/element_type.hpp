#pragma once
// The element types of kernel arguments: the spec names them, the runner allocates, fills,
// passes and compares buffers by them. Values are part of the runner protocol: append only.
#include <cstddef>
#include <cstdint>
#include <string>

namespace ktune {

enum class ElementType : std::uint8_t { i8, u8, i16, u16, i32, u32, i64, u64, f16, bf16, f32, f64 };
inline constexpr std::uint8_t kLastElementType = static_cast<std::uint8_t>(ElementType::f64);
const char* element_type_name(ElementType type) noexcept;  // "float", "int32", ...
std::size_t element_size(ElementType type) noexcept;
bool is_floating(ElementType type) noexcept;
// Whether an integer value is representable in an integer type without wrapping (always true for
// floating types, which take any integer approximately); "-2147483648..2147483647" for messages.
bool integer_fits(ElementType type, std::int64_t value) noexcept;
std::string integer_range_text(ElementType type);

}  // namespace ktune
