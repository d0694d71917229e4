#include "engine/common/hash.hpp"

#include <xxhash.h>

namespace ktune {

std::string Hash128::hex() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[static_cast<std::size_t>(15 - i)] = digits[(high >> (4 * i)) & 0xf];
    out[static_cast<std::size_t>(31 - i)] = digits[(low >> (4 * i)) & 0xf];
  }
  return out;
}

Hash128 xxh3_128(std::string_view bytes) noexcept {
  XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return Hash128{h.high64, h.low64};
}

}  // namespace ktune
