#include "engine/common/printable.hpp"

namespace ktune {

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      const auto code = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += kHex[code >> 4];
      out += kHex[code & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string printable_json(std::string_view json_text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(json_text.size());
  for (std::size_t i = 0; i < json_text.size(); ++i) {
    const auto c = static_cast<unsigned char>(json_text[i]);
    unsigned code = 0x100;
    if (c == 0x7f) code = c;
    else if (c == 0xc2 && i + 1 < json_text.size() && static_cast<unsigned char>(json_text[i + 1]) >= 0x80 &&
             static_cast<unsigned char>(json_text[i + 1]) <= 0x9f)
      code = static_cast<unsigned char>(json_text[++i]);
    if (code == 0x100) {
      out += static_cast<char>(c);
      continue;
    }
    out += "\\u00";
    out += kHex[code >> 4];
    out += kHex[code & 15];
  }
  return out;
}

}  // namespace ktune
