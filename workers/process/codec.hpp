#pragma once
// The one binary codec of ktune's process protocols (compile workers, GPU runner, cubin cache
// files): little-endian fixed-width integers, f64 as its IEEE-754 bits, string = u32 length +
// bytes, string list = u32 count + strings. Each protocol writes its payloads with a Writer and
// reads them with a Reader; the layouts live with the protocols (workers/compile_protocol.cpp,
// engine/runner/runner_protocol.cpp).
//
// A Reader never trusts its input: every length is checked against the bytes that remain, the
// first failure sticks and names the field, and finish() refuses trailing bytes. Decoders check
// enum ranges with fail() and return finish()'s error, so a malformed message is a value.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.hpp"

namespace ktune::process {

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { little(v, 2); }
  void u32(std::uint32_t v) { little(v, 4); }
  void u64(std::uint64_t v) { little(v, 8); }
  void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v);
  void boolean(bool v) { u8(v ? 1 : 0); }
  // Throws std::length_error above the frame payload cap: a message that large is a bug upstream.
  void str(std::string_view s);
  void strs(const std::vector<std::string>& list);
  // Raw bytes with no length (a caller that wrote the length before).
  void raw(std::string_view bytes) { out_.append(bytes); }
  std::size_t size() const noexcept { return out_.size(); }
  std::string take() { return std::move(out_); }

 private:
  void little(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
  }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::uint8_t u8(const char* field) { return static_cast<std::uint8_t>(little(1, field)); }
  std::uint16_t u16(const char* field) { return static_cast<std::uint16_t>(little(2, field)); }
  std::uint32_t u32(const char* field) { return static_cast<std::uint32_t>(little(4, field)); }
  std::uint64_t u64(const char* field) { return little(8, field); }
  std::int32_t i32(const char* field) { return static_cast<std::int32_t>(u32(field)); }
  std::int64_t i64(const char* field) { return static_cast<std::int64_t>(u64(field)); }
  double f64(const char* field);
  // Only 0 and 1: the format has one spelling per value, so what decodes re-encodes to the same bytes.
  bool boolean(const char* field);
  std::string str(const char* field);
  std::vector<std::string> strs(const char* field);
  // A count of items that each take at least `min_item_bytes`: a count the remaining bytes cannot
  // hold is refused before anyone reserves memory for it.
  std::uint32_t count(const char* field, std::size_t min_item_bytes);

  // Errc::corrupt naming `what` and the first bad field; trailing bytes are an error.
  Status finish(const char* what);
  bool failed() const noexcept { return !error_.empty(); }
  void fail(const char* field, const char* why);
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }

 private:
  bool need(std::size_t n, const char* field);
  std::uint64_t little(int n, const char* field);

  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace ktune::process
