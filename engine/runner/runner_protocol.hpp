#pragma once
// Messages between the engine and `ktune-runner`: payloads written with the process layer's one
// binary codec (workers/process/codec.hpp) and carried in its frames, whose types this protocol
// defines (kRunner*Frame). The runner starts by sending a hello (its protocol version, the device,
// or why it has no GPU); a hello of another version is refused. The byte layout is pinned by
// golden tests (tests/test_runner_protocol.cpp); change it only with kRunnerProtocolVersion.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runner/measurement.hpp"
#include "engine/common/result.hpp"
#include "engine/cuda/driver_api.hpp"

namespace ktune::runner {

// 1: a JSON header inside the payload; 2: binary fields through the one codec; 3: the stop rule on
// the median's standard error, racing, phase times and the stop decision (issue #13); 4: inputs
// from files, normal and integer data, copies, reference answers from files, tolerances per
// output, constant symbols, run-once reference runs (issue #16); 5: pipelines (each later kernel's
// arguments, lowered name and launch shape; each kernel's time); 6: tensor map arguments (an
// argument's kind byte, each job's TMA descriptors), thread block clusters in launch shapes
// (issue #19) and setup kernels (each one's arguments, lowered name and launch shape).
inline constexpr int kRunnerProtocolVersion = 6;

// Frame types (process::FrameHeader::type) of this protocol.
inline constexpr std::uint16_t kRunnerHelloFrame = 16;     // runner -> engine once: the device, or why there is none
inline constexpr std::uint16_t kRunnerRequestFrame = 17;   // engine -> runner
inline constexpr std::uint16_t kRunnerResponseFrame = 18;  // runner -> engine

struct RunnerHello {
  bool ok = false;
  std::string error;  // when !ok: why the runner cannot measure (no GPU, ...)
  cuda::DeviceInfo device;
  bool cupti = false;
  int pid = 0;
};

enum class RunnerOp : std::uint8_t { problem, measure, quit };

struct RunnerRequest {
  RunnerOp op = RunnerOp::quit;
  Problem problem;               // op == problem
  std::vector<KernelJob> jobs;   // op == measure
  MeasureOptions options;        // op == measure
};

struct RunnerResponse {
  bool ok = false;
  std::string error;
  std::vector<KernelMeasurement> results;
  bool poisoned = false;  // the runner exits after this response
};

std::string encode_hello(const RunnerHello& hello);
Result<RunnerHello> decode_hello(std::string_view payload);
std::string encode_request(const RunnerRequest& request);
Result<RunnerRequest> decode_request(std::string_view payload);
std::string encode_response(const RunnerResponse& response);
Result<RunnerResponse> decode_response(std::string_view payload);

}  // namespace ktune::runner
