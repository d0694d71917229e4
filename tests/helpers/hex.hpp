#pragma once
// Bytes as lowercase hex and back, for tests that pin a wire format byte by byte
// (tests/test_compile_protocol.cpp, tests/test_runner_protocol.cpp).
#include <cstddef>
#include <string>
#include <string_view>

namespace ktune::testing {

inline std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

inline std::string unhex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) out += static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16));
  return out;
}

}  // namespace ktune::testing
