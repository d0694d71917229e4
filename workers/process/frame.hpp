#pragma once
// The frame every process protocol travels in (compile workers, GPU runner) and the cubin cache
// files are stored as. All integers little-endian:
//   offset 0  u32 magic   0x4B57544B ("KTWK" in byte order)
//   offset 4  u16 version kFrameVersion (the frame layout; each protocol versions its payloads in its hello)
//   offset 6  u16 type    a message type that the protocol defines; this layer does not know them
//   offset 8  u32 length  payload bytes, <= kMaxPayload
//   offset 12 payload
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/common/result.hpp"

namespace ktune::process {

inline constexpr std::uint32_t kFrameMagic = 0x4B57544BU;
inline constexpr std::uint16_t kFrameVersion = 1;
inline constexpr std::size_t kFrameHeaderSize = 12;
// Large enough for any cubin NVRTC produces in practice plus its log; small enough that a corrupt
// length cannot make a reader allocate gigabytes.
inline constexpr std::uint32_t kMaxPayload = 256U << 20;

struct FrameHeader {
  std::uint16_t type = 0;
  std::uint32_t length = 0;
};

// Magic, version and length cap; the type is the protocol's to check.
Result<FrameHeader> decode_frame_header(std::string_view header_bytes);
// Throws std::length_error above kMaxPayload (a bug upstream, not an input).
std::string encode_frame(std::uint16_t type, std::string_view payload);
// A whole frame in one buffer (the cache files): header checks, the expected type, exact length.
Result<std::string_view> decode_frame(std::string_view frame, std::uint16_t expected_type);

}  // namespace ktune::process
