#pragma once
// xxh3-128 of a canonical text, printed as 32 lowercase hex digits. Every persistent key in ktune
// (kernel, tuning, cubin) is this hash of a documented, versioned canonical form.
#include <cstdint>
#include <string>
#include <string_view>

namespace ktune {

struct Hash128 {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::string hex() const;
  friend bool operator==(const Hash128&, const Hash128&) = default;
};

Hash128 xxh3_128(std::string_view bytes) noexcept;

}  // namespace ktune
