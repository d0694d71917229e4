#include "engine/common/identifier.hpp"

namespace ktune {

namespace {
// Not <cctype>: its answers depend on the C locale, and a name must mean the same everywhere.
constexpr bool is_letter(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
}  // namespace

bool is_identifier(std::string_view text) noexcept {
  if (text.empty() || !is_letter(text.front())) return false;
  for (char c : text)
    if (!is_letter(c) && !is_digit(c)) return false;
  return true;
}

}  // namespace ktune
