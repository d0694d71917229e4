// Fuzz target: the GPU runner's messages (engine/bench/runner_protocol.hpp): a little-endian JSON
// header length, the JSON header, then cubin attachments. The input is one payload (what follows
// the wire frame header), read by all three decoders as it is and once more with the length prefix
// computed here (with_prefix below).
//
// Checked beyond "no crash, no UB, no huge allocation":
//   - what decodes re-encodes to a payload that decodes again and re-encodes to the same bytes
//     (the encoder's output is always readable, and nothing the decoder accepts is lost on the way);
//   - decoded requests keep the invariants the runner relies on: buffer bytes = count x element
//     size within kMaxProblemBytes, argument slots naming existing buffers, attachments that fit
//     in the payload.
#include <string>

#include "engine/bench/runner_protocol.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace ktune::bench;

namespace {

template <class Decode, class Encode>
void check_stable(std::string_view payload, Decode decode, Encode encode) {
  auto first = decode(payload);
  if (!first) {
    KTUNE_FUZZ_CHECK(!first.error().message.empty());
    return;
  }
  const std::string once = encode(*first);
  auto second = decode(once);
  KTUNE_FUZZ_CHECK(second.ok());
  KTUNE_FUZZ_CHECK(encode(*second) == once);
}

void check_request(std::string_view payload) {
  auto request = decode_request(payload);
  if (!request) return;
  std::uint64_t total = 0, attached = 0;
  for (const auto& buffer : request->problem.buffers) {
    KTUNE_FUZZ_CHECK(buffer.bytes <= ktune::bench::kMaxProblemBytes);
    KTUNE_FUZZ_CHECK(buffer.count <= buffer.bytes);
    KTUNE_FUZZ_CHECK(buffer.bytes == buffer.count * ktune::element_size(buffer.type));
    total += buffer.bytes;
  }
  KTUNE_FUZZ_CHECK(request->problem.total_bytes == total && total <= ktune::bench::kMaxProblemBytes);
  for (const auto& arg : request->problem.args)
    KTUNE_FUZZ_CHECK(!arg.is_buffer || arg.index < request->problem.buffers.size());
  for (const auto& job : request->jobs) attached += job.cubin.size();
  KTUNE_FUZZ_CHECK(attached <= payload.size());
}

// Nearly every byte mutation of a JSON header breaks its length prefix, so each input is also
// read as "header text, NUL, attachments" with the prefix computed here (the seeds come in both
// forms): the fuzzer then explores the JSON, and the raw form keeps the prefix checks covered.
std::string with_prefix(std::string_view input) {
  const std::size_t nul = input.find('\0');
  const std::string_view header = input.substr(0, nul);
  const std::string_view rest = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  std::string out(4, '\0');
  for (std::size_t i = 0; i < 4; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFFU);
  out.append(header);
  out.append(rest);
  return out;
}

void check_all(std::string_view payload) {
  check_stable(payload, decode_hello, encode_hello);
  check_stable(payload, decode_request, encode_request);
  check_stable(payload, decode_response, encode_response);
  check_request(payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = ktune::fuzz::as_text(data, size);
  check_all(input);
  check_all(with_prefix(input));
  return 0;
}
