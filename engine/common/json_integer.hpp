#pragma once
// Reading an integer field of a JSON document the same way in every reader (specs, sweeps,
// exported lookup tables): nlohmann keeps a large positive integer as unsigned, and one beyond
// int64's range must be refused, not wrapped. A template on the JSON type, so this ground floor
// needs no JSON library of its own.
#include <cstdint>
#include <limits>
#include <optional>

namespace ktune {

// The value as int64; nullopt for a non-integer or an integer beyond int64's range.
template <class Json>
std::optional<std::int64_t> json_int64(const Json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.template get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (value.is_number_integer()) return value.template get<std::int64_t>();
  return std::nullopt;
}

}  // namespace ktune
