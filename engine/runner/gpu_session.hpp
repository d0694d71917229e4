#pragma once
// The GPU side of the runner process: owns the primary context of one device, a stream, the
// problem's buffers (with pristine copies of the outputs), an L2-flush buffer of at least twice
// the L2, the CUPTI timer and the verification reference. Runs in `ktune-runner` only: after a
// sticky error or a hang `poisoned()` is true and the process must exit.
#include <memory>
#include <string>
#include <vector>

#include "engine/runner/measurement.hpp"
#include "engine/common/result.hpp"
#include "engine/cuda/driver_api.hpp"

namespace ktune::runner {

class GpuSession {
 public:
  static Result<std::unique_ptr<GpuSession>> open(int device_ordinal);
  ~GpuSession();
  GpuSession(const GpuSession&) = delete;
  GpuSession& operator=(const GpuSession&) = delete;

  const cuda::DeviceInfo& device() const noexcept;
  bool cupti_available() const noexcept;

  // Allocates and initialises the buffers (replacing any previous problem and reference).
  Status set_problem(const Problem& problem);

  // Measures each job; with several jobs the samples are interleaved (A B C A B C ...), so a
  // drift in clocks cannot favour one of them.
  std::vector<KernelMeasurement> measure(const std::vector<KernelJob>& jobs, const MeasureOptions& options);

  bool poisoned() const noexcept;

  struct State;

 private:
  GpuSession() = default;
  std::unique_ptr<State> state_;
};

}  // namespace ktune::runner
