#pragma once
// Messages between the engine and `ktune-runner`, carried in the workers' wire frames
// (MessageType::runner_request / runner_response). Payload: u32 little-endian length of a JSON
// header, the header, then binary attachments (cubins) whose sizes the header gives. The runner
// starts by sending a hello (device description, or why it has no GPU).
#include <string>
#include <string_view>
#include <vector>

#include "engine/bench/measurement.hpp"
#include "engine/common/result.hpp"
#include "engine/cuda/driver_api.hpp"

namespace ktune::bench {

inline constexpr int kRunnerProtocolVersion = 1;

struct RunnerHello {
  bool ok = false;
  std::string error;  // when !ok: why the runner cannot measure (no GPU, ...)
  cuda::DeviceInfo device;
  bool cupti = false;
  int pid = 0;
};

enum class RunnerOp { problem, measure, quit };

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

}  // namespace ktune::bench
