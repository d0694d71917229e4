// Fuzz target: the GPU runner's messages (engine/runner/runner_protocol.hpp): binary payloads
// through the process layer's codec. The input is one payload (what follows the frame header),
// read by all three decoders.
//
// Checked beyond "no crash, no UB, no huge allocation":
//   - what decodes re-encodes to a payload that decodes again and re-encodes to the same bytes
//     (the encoder's output is always readable, and nothing the decoder accepts is lost on the way);
//   - decoded requests keep the invariants the runner relies on: buffer bytes = count x element
//     size within kMaxProblemBytes, argument slots naming existing buffers (a pipeline's later
//     kernels' too), a name and a shape for each later kernel of a job, attachments that fit in
//     the payload. (A job's own arguments are checked against the problem by the runner.)
//   - the runner's decoders re-encode what they accept to exactly the input bytes (one spelling
//     per value, like the compile protocol).
#include <string>

#include "engine/runner/runner_protocol.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace ktune::runner;

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
    KTUNE_FUZZ_CHECK(buffer.bytes <= ktune::runner::kMaxProblemBytes);
    KTUNE_FUZZ_CHECK(buffer.count <= buffer.bytes);
    KTUNE_FUZZ_CHECK(buffer.bytes == buffer.count * ktune::element_size(buffer.type));
    total += buffer.bytes;
  }
  KTUNE_FUZZ_CHECK(request->problem.total_bytes == total && total <= ktune::runner::kMaxProblemBytes);
  for (const auto& arg : request->problem.args)
    KTUNE_FUZZ_CHECK(!arg.is_buffer || arg.index < request->problem.buffers.size());
  KTUNE_FUZZ_CHECK(request->problem.stage_args.size() < ktune::runner::kMaxPipelineKernels);
  for (const auto& stage : request->problem.stage_args)
    for (const auto& arg : stage) KTUNE_FUZZ_CHECK(!arg.is_buffer || arg.index < request->problem.buffers.size());
  for (const auto& job : request->jobs) {
    attached += job.cubin.size();
    // A pipeline's later kernels come as pairs: a name and a launch shape each.
    KTUNE_FUZZ_CHECK(job.stage_lowered_names.size() == job.launch.stage_shapes.size());
    KTUNE_FUZZ_CHECK(job.stage_lowered_names.size() < ktune::runner::kMaxPipelineKernels);
    // A TMA descriptor has 1 to 5 dimensions (the runner's arrays hold 5).
    for (const auto& map : job.launch.tensor_maps)
      KTUNE_FUZZ_CHECK(map.rank >= 1 && map.rank <= ktune::runner::kMaxTensorMapRank);
  }
  KTUNE_FUZZ_CHECK(attached <= payload.size());
}

void check_exact(std::string_view payload) {
  if (auto hello = decode_hello(payload)) KTUNE_FUZZ_CHECK(encode_hello(*hello) == payload);
  if (auto request = decode_request(payload)) KTUNE_FUZZ_CHECK(encode_request(*request) == payload);
  if (auto response = decode_response(payload)) KTUNE_FUZZ_CHECK(encode_response(*response) == payload);
}

void check_all(std::string_view payload) {
  check_exact(payload);
  check_stable(payload, decode_hello, encode_hello);
  check_stable(payload, decode_request, encode_request);
  check_stable(payload, decode_response, encode_response);
  check_request(payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = ktune::fuzz::as_text(data, size);
  check_all(input);
  return 0;
}
