#pragma once
// The compile workers' protocol: the message types and payload layouts carried in the process
// layer's frames (workers/process/frame.hpp), written with its one codec (process/codec.hpp). Also
// the on-disk format of a cubin cache entry (a whole frame of type cache_entry), so both share one
// bounds-checked decoder. Existing cache files must keep decoding: the layout below is pinned by
// golden tests (tests/test_compile_protocol.cpp).
//
// Payload fields: u8, u32, f64 (IEEE-754 bits as u64), string = u32 length + bytes,
// string list = u32 count + strings. Decoders never trust input: every length is checked against
// the bytes that remain, trailing bytes are an error, enums are range-checked.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/common/result.hpp"
#include "workers/compile_job.hpp"
#include "workers/process/frame.hpp"

namespace ktune::workers {

using process::kFrameHeaderSize;
using process::kMaxPayload;
inline constexpr std::uint32_t kWireMagic = process::kFrameMagic;
// The compile protocol's version (in the worker's hello); the frame layout's own is kFrameVersion.
inline constexpr std::uint16_t kWireVersion = 1;

enum class MessageType : std::uint16_t {
  hello = 1,            // worker -> pool once, when ready
  compile_request = 2,  // pool -> worker: a CompileJob
  compile_result = 3,   // worker -> pool: a CompileResult
  cache_entry = 4,      // a cubin cache file: key + CompileResult
};
constexpr std::uint16_t frame_type(MessageType type) noexcept { return static_cast<std::uint16_t>(type); }

struct FrameHeader {
  MessageType type = MessageType::hello;
  std::uint32_t length = 0;
};

struct Hello {
  std::uint32_t protocol_version = kWireVersion;
  std::uint32_t pid = 0;
  std::string nvrtc_version;  // "13.0"
  bool test_faults = false;   // KTUNE_WORKER_TEST_FAULTS=1 was set for this worker
};

struct CacheEntry {
  std::string key_hex;  // guards against a file renamed or copied under the wrong name
  CompileResult result;
};

// Header validation (magic, version, a type of this protocol, length cap).
Result<FrameHeader> decode_frame_header(std::string_view header_bytes);
std::string encode_frame(MessageType type, std::string_view payload);
// A whole frame in one buffer (the cache files): header checks plus exact length.
Result<std::string_view> decode_frame(std::string_view frame, MessageType expected);

std::string encode_hello(const Hello& hello);
Result<Hello> decode_hello(std::string_view payload);
std::string encode_job(const CompileJob& job);
Result<CompileJob> decode_job(std::string_view payload);
// from_cache and attempts are pool-side facts and are not encoded.
std::string encode_result(const CompileResult& result);
Result<CompileResult> decode_result(std::string_view payload);
std::string encode_cache_entry(const CacheEntry& entry);
Result<CacheEntry> decode_cache_entry(std::string_view payload);

}  // namespace ktune::workers
