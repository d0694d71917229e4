#pragma once
// The engine's handle on one GPU runner process (DESIGN.md decision 2): spawns `ktune-runner`
// through a process::SupervisedChild, sends it the problem and measurement requests, and survives
// it. When the runner crashes or hangs the configurations in flight get `crash` or `timeout`, the
// runner is killed and respawned, and the problem and the verification reference are restored
// before the next request.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "engine/common/result.hpp"
#include "engine/runner/measurement.hpp"
#include "engine/runner/runner_protocol.hpp"
#include "workers/process/locate_executable.hpp"

namespace ktune {

namespace process {
class SupervisedChild;
}

struct GpuRunnerOptions {
  std::filesystem::path runner_path;  // empty: see runner_search()
  int device = 0;
  std::chrono::milliseconds startup_timeout{60'000};
};

// How to find ktune-runner (process::locate_executable): `explicit_path` when given; else
// $KTUNE_RUNNER; else next to the running executable, next to libktune (and its ../bin), the
// runner of this build tree and the install bindir.
process::ExecutableSearch runner_search(const std::filesystem::path& explicit_path = {});

class GpuRunner {
 public:
  // Errc::no_gpu when the runner starts but finds no usable GPU (the reason is in the message).
  static Result<std::unique_ptr<GpuRunner>> start(GpuRunnerOptions options);
  ~GpuRunner();
  GpuRunner(const GpuRunner&) = delete;
  GpuRunner& operator=(const GpuRunner&) = delete;

  const runner::RunnerHello& hello() const noexcept { return hello_; }
  Status set_problem(const runner::Problem& problem);
  // One result per job. Errors are only for failures of the machinery itself (cannot respawn).
  Result<std::vector<runner::KernelMeasurement>> measure(const std::vector<runner::KernelJob>& jobs,
                                                         const runner::MeasureOptions& options);
  // Frees the problem's GPU buffers (and the verification reference) in the runner, which stays
  // up; the next set_problem allocates again. Best effort: a runner that does not answer is killed
  // (it is respawned on the next request), which frees them too.
  void release_problem();
  std::size_t restarts() const noexcept { return restarts_; }

 private:
  GpuRunner() = default;
  Status ensure_running();
  // Errc::internal when the runner did not answer properly; the runner is then gone.
  Result<runner::RunnerResponse> exchange(const runner::RunnerRequest& request, std::chrono::milliseconds timeout);

  std::unique_ptr<process::SupervisedChild> child_;
  runner::RunnerHello hello_;
  std::optional<runner::Problem> problem_;
  std::optional<runner::KernelJob> reference_;
  runner::MeasureOptions reference_options_;
  std::size_t restarts_ = 0;
};

}  // namespace ktune
