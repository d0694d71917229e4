#pragma once
// The engine's handle on one GPU runner process (DESIGN.md decision 2): spawns `ktune-runner`,
// sends it the problem and measurement requests, and survives it. When the runner crashes or hangs
// the configuration in flight gets `crash` or `timeout`, the runner is killed and respawned, and
// the problem and the verification reference are restored before the next request.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "engine/bench/measurement.hpp"
#include "engine/bench/runner_protocol.hpp"
#include "engine/common/result.hpp"

namespace ktune::bench {

struct GpuRunnerOptions {
  std::filesystem::path runner_path;  // empty: next to the running executable, then the build/install dirs
  int device = 0;
  std::chrono::milliseconds startup_timeout{60'000};
};

Result<std::filesystem::path> locate_runner(const std::filesystem::path& explicit_path = {});

class GpuRunner {
 public:
  // Errc::no_gpu when the runner starts but finds no usable GPU (the reason is in the message).
  static Result<std::unique_ptr<GpuRunner>> start(GpuRunnerOptions options);
  ~GpuRunner();
  GpuRunner(const GpuRunner&) = delete;
  GpuRunner& operator=(const GpuRunner&) = delete;

  const RunnerHello& hello() const noexcept { return hello_; }
  Status set_problem(const Problem& problem);
  // One result per job. Errors are only for failures of the machinery itself (cannot respawn).
  Result<std::vector<KernelMeasurement>> measure(const std::vector<KernelJob>& jobs, const MeasureOptions& options);
  std::size_t restarts() const noexcept { return restarts_; }

  struct Process;

 private:
  GpuRunner() = default;
  Status spawn();
  Status ensure_running();
  Result<RunnerResponse> exchange(const RunnerRequest& request, std::chrono::milliseconds timeout, bool& died);

  GpuRunnerOptions options_;
  std::filesystem::path path_;
  std::unique_ptr<Process> process_;
  RunnerHello hello_;
  std::optional<Problem> problem_;
  std::optional<KernelJob> reference_;
  MeasureOptions reference_options_;
  std::size_t restarts_ = 0;
};

}  // namespace ktune::bench
