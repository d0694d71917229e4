#include "workers/process/codec.hpp"

#include <bit>
#include <stdexcept>

#include "workers/process/frame.hpp"

namespace ktune::process {

void Writer::f64(double v) { little(std::bit_cast<std::uint64_t>(v), 8); }

void Writer::str(std::string_view s) {
  if (s.size() > kMaxPayload) throw std::length_error("wire: string longer than the payload cap");
  u32(static_cast<std::uint32_t>(s.size()));
  out_.append(s);
}

void Writer::strs(const std::vector<std::string>& list) {
  u32(static_cast<std::uint32_t>(list.size()));
  for (const auto& s : list) str(s);
}

double Reader::f64(const char* field) { return std::bit_cast<double>(little(8, field)); }

bool Reader::boolean(const char* field) {
  const std::uint8_t v = u8(field);
  if (v > 1) fail(field, "not a boolean");
  return v == 1;
}

std::string Reader::str(const char* field) {
  const std::uint32_t n = u32(field);
  if (!need(n, field)) return {};
  std::string s(bytes_.substr(pos_, n));
  pos_ += n;
  return s;
}

std::uint32_t Reader::count(const char* field, std::size_t min_item_bytes) {
  const std::uint32_t n = u32(field);
  if (failed()) return 0;
  if (min_item_bytes > 0 && n > remaining() / min_item_bytes) {
    fail(field, "count exceeds the remaining bytes");
    return 0;
  }
  return n;
}

std::vector<std::string> Reader::strs(const char* field) {
  // Each string costs at least its 4-byte length.
  const std::uint32_t n = count(field, 4);
  std::vector<std::string> list;
  list.reserve(n);
  for (std::uint32_t i = 0; i < n && !failed(); ++i) list.push_back(str(field));
  return list;
}

Status Reader::finish(const char* what) {
  if (!failed() && pos_ != bytes_.size()) fail(what, "trailing bytes after the last field");
  if (failed()) return make_error(Errc::corrupt, "wire: malformed " + std::string(what) + ": " + error_);
  return Ok{};
}

void Reader::fail(const char* field, const char* why) {
  if (error_.empty()) error_ = std::string(field) + ": " + why;
}

bool Reader::need(std::size_t n, const char* field) {
  if (failed()) return false;
  if (n > remaining()) {
    fail(field, "truncated (runs past the message)");
    return false;
  }
  return true;
}

std::uint64_t Reader::little(int n, const char* field) {
  if (!need(static_cast<std::size_t>(n), field)) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[pos_ + static_cast<std::size_t>(i)])) << (8 * i);
  pos_ += static_cast<std::size_t>(n);
  return v;
}

}  // namespace ktune::process
