// Fuzz target: the compile workers' wire protocol (workers/compile_protocol.hpp), which also reads the cubin
// cache files from disk. The input is a whole frame as it would arrive from a pipe or a cache file.
//
// Checked beyond "no crash, no UB, no huge allocation":
//   - a header that decodes has a known type and a length within kMaxPayload;
//   - decode_frame agrees with the header (type and exact length);
//   - every payload decoder is run on the bytes after the header, whatever the type; a payload
//     that decodes re-encodes to exactly the same bytes (the format has one spelling per value).
#include <string>

#include "tests/fuzz/fuzz_check.hpp"
#include "workers/compile_protocol.hpp"

using namespace ktune::workers;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = ktune::fuzz::as_text(data, size);

  auto header = decode_frame_header(input);
  if (header) {
    KTUNE_FUZZ_CHECK(header->length <= kMaxPayload);
    auto whole = decode_frame(input, header->type);
    KTUNE_FUZZ_CHECK(whole.ok() == (input.size() - kFrameHeaderSize == header->length));
    if (whole) {
      KTUNE_FUZZ_CHECK(whole->size() == header->length);
      KTUNE_FUZZ_CHECK(encode_frame(header->type, *whole) == input);
    }
  } else {
    KTUNE_FUZZ_CHECK(!header.error().message.empty());
    KTUNE_FUZZ_CHECK(!decode_frame(input, MessageType::cache_entry).ok());
  }

  const std::string_view payload = input.size() >= kFrameHeaderSize ? input.substr(kFrameHeaderSize) : input;
  if (auto hello = decode_hello(payload)) KTUNE_FUZZ_CHECK(encode_hello(*hello) == payload);
  if (auto job = decode_job(payload)) KTUNE_FUZZ_CHECK(encode_job(*job) == payload);
  if (auto result = decode_result(payload)) {
    KTUNE_FUZZ_CHECK(encode_result(*result) == payload);
    KTUNE_FUZZ_CHECK(static_cast<std::uint8_t>(result->status) <= kLastCompileStatus);
  }
  if (auto entry = decode_cache_entry(payload)) KTUNE_FUZZ_CHECK(encode_cache_entry(*entry) == payload);
  return 0;
}
