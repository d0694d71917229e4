#include "workers/process/frame.hpp"

#include <stdexcept>

#include "workers/process/codec.hpp"

namespace ktune::process {

Result<FrameHeader> decode_frame_header(std::string_view header) {
  if (header.size() < kFrameHeaderSize) return make_error(Errc::corrupt, "wire: truncated frame header");
  Reader rd(header.substr(0, kFrameHeaderSize));
  const std::uint32_t magic = rd.u32("magic");
  const std::uint16_t version = rd.u16("version");
  const std::uint16_t type = rd.u16("type");
  const std::uint32_t length = rd.u32("length");
  if (magic != kFrameMagic) return make_error(Errc::corrupt, "wire: bad magic (not a ktune frame)");
  if (version != kFrameVersion)
    return make_error(Errc::unsupported, "wire: protocol version " + std::to_string(version) + ", this build speaks " +
                                             std::to_string(kFrameVersion) + " (mixed ktune installations?)");
  if (length > kMaxPayload)
    return make_error(Errc::corrupt, "wire: payload of " + std::to_string(length) + " bytes exceeds the cap");
  return FrameHeader{type, length};
}

std::string encode_frame(std::uint16_t type, std::string_view payload) {
  if (payload.size() > kMaxPayload) throw std::length_error("wire: payload exceeds kMaxPayload");
  Writer w;
  w.u32(kFrameMagic);
  w.u16(kFrameVersion);
  w.u16(type);
  w.u32(static_cast<std::uint32_t>(payload.size()));
  w.raw(payload);
  return w.take();
}

Result<std::string_view> decode_frame(std::string_view frame, std::uint16_t expected_type) {
  auto header = decode_frame_header(frame);
  if (!header) return header.error();
  if (header->type != expected_type) return make_error(Errc::corrupt, "wire: unexpected message type");
  if (frame.size() - kFrameHeaderSize != header->length)
    return make_error(Errc::corrupt, "wire: frame length does not match its header");
  return frame.substr(kFrameHeaderSize);
}

}  // namespace ktune::process
