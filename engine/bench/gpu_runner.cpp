#include "engine/bench/gpu_runner.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "workers/child_process.hpp"
#include "workers/frame_io.hpp"
#include "workers/wire.hpp"

namespace ktune::bench {

struct GpuRunner::Process {
  workers::ChildProcess child;
};

namespace {

using workers::IoOutcome;
using workers::MessageType;

std::chrono::steady_clock::time_point after(std::chrono::milliseconds timeout) {
  return std::chrono::steady_clock::now() + timeout;
}

}  // namespace

Result<std::filesystem::path> locate_runner(const std::filesystem::path& explicit_path) {
  if (!explicit_path.empty()) {
    // A path the user gave is never silently replaced by another runner.
    if (::access(explicit_path.c_str(), X_OK) == 0) return explicit_path;
    return make_error(Errc::not_found, explicit_path.string() + " is not an executable ktune-runner");
  }
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("KTUNE_RUNNER"); env && *env) candidates.emplace_back(env);
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(self.parent_path() / "ktune-runner");
    candidates.push_back(self.parent_path() / ".." / "tools" / "ktune-runner");  // tests and benches in a build tree
  }
  candidates.emplace_back(KTUNE_BUILD_RUNNER);
  candidates.emplace_back(std::filesystem::path(KTUNE_INSTALL_BINDIR) / "ktune-runner");
  for (const auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) return c;
  return make_error(Errc::not_found, "ktune-runner not found next to this program, in the build tree or in " +
                                         std::string(KTUNE_INSTALL_BINDIR) + " (set KTUNE_RUNNER)");
}

Result<std::unique_ptr<GpuRunner>> GpuRunner::start(GpuRunnerOptions options) {
  auto path = locate_runner(options.runner_path);
  if (!path) return path.error();
  std::unique_ptr<GpuRunner> runner(new GpuRunner());
  runner->options_ = std::move(options);
  runner->path_ = *path;
  if (auto ok = runner->spawn(); !ok) return ok.error();
  return runner;
}

GpuRunner::~GpuRunner() {
  if (process_) {
    (void)workers::write_all(process_->child.input_fd(), workers::encode_frame(MessageType::runner_request, encode_request({})),
                             after(std::chrono::milliseconds(500)));
    process_->child.terminate(std::chrono::milliseconds(2000));
  }
}

Status GpuRunner::spawn() {
  process_.reset();
  workers::SpawnOptions spawn{path_, {"--device", std::to_string(options_.device)}, {}};
  auto child = workers::ChildProcess::spawn(spawn);
  if (!child) return child.error();
  auto process = std::make_unique<Process>(Process{std::move(*child)});
  auto frame = workers::read_frame(process->child.output_fd(), after(options_.startup_timeout));
  if (frame.outcome != IoOutcome::done || frame.message.type != MessageType::runner_hello) {
    std::string why = frame.outcome == IoOutcome::timeout ? "did not start within the startup timeout"
                                                          : (frame.error.empty() ? "exited before saying hello" : frame.error);
    auto status = process->child.terminate(std::chrono::milliseconds(100));
    return make_error(Errc::internal, "ktune-runner " + why + " (" + status.describe() + ")");
  }
  auto hello = decode_hello(frame.message.payload);
  if (!hello) return hello.error();
  if (!hello->ok) {
    process->child.terminate(std::chrono::milliseconds(1000));
    return make_error(Errc::no_gpu, hello->error);
  }
  hello_ = *hello;
  process_ = std::move(process);
  return Ok{};
}

Result<RunnerResponse> GpuRunner::exchange(const RunnerRequest& request, std::chrono::milliseconds timeout, bool& died) {
  died = false;
  auto deadline = after(timeout);
  auto sent = workers::write_all(process_->child.input_fd(), workers::encode_frame(MessageType::runner_request, encode_request(request)), deadline);
  if (sent.outcome != IoOutcome::done) {
    died = true;
    return make_error(Errc::internal, "ktune-runner stopped reading: " + sent.error);
  }
  auto frame = workers::read_frame(process_->child.output_fd(), deadline);
  if (frame.outcome == IoOutcome::timeout) {
    died = true;
    return make_error(Errc::internal, "timeout");
  }
  if (frame.outcome != IoOutcome::done || frame.message.type != MessageType::runner_response) {
    died = true;
    return make_error(Errc::internal, "ktune-runner died: " + frame.error);
  }
  auto response = decode_response(frame.message.payload);
  if (!response) died = true;
  return response;
}

Status GpuRunner::ensure_running() {
  if (process_ && !process_->child.try_wait()) return Ok{};
  process_.reset();
  ++restarts_;
  if (auto ok = spawn(); !ok) return ok;
  if (problem_) {
    bool died = false;
    RunnerRequest request;
    request.op = RunnerOp::problem;
    request.problem = *problem_;
    auto response = exchange(request, std::chrono::minutes(5), died);
    if (!response) return response.error();
    if (!response->ok) return make_error(Errc::internal, response->error);
  }
  if (reference_) {
    // The reference outputs lived in the old process: compute them again.
    bool died = false;
    RunnerRequest request;
    request.op = RunnerOp::measure;
    request.jobs = {*reference_};
    request.options = reference_options_;
    request.options.rule.min_samples = 1;
    request.options.rule.budget_seconds = 0;
    auto response = exchange(request, std::chrono::minutes(2), died);
    if (!response || response->results.empty() || response->results[0].status != MeasureStatus::ok)
      return make_error(Errc::internal, "the reference configuration failed after a runner restart");
  }
  return Ok{};
}

Status GpuRunner::set_problem(const Problem& problem) {
  problem_.reset();
  reference_.reset();
  if (auto ok = ensure_running(); !ok) return ok;
  RunnerRequest request;
  request.op = RunnerOp::problem;
  request.problem = problem;
  bool died = false;
  auto response = exchange(request, std::chrono::minutes(5), died);
  if (!response) return response.error();
  if (!response->ok) return make_error(Errc::invalid_argument, response->error);
  problem_ = problem;
  return Ok{};
}

Result<std::vector<KernelMeasurement>> GpuRunner::measure(const std::vector<KernelJob>& jobs, const MeasureOptions& options) {
  if (auto ok = ensure_running(); !ok) return ok.error();
  RunnerRequest request;
  request.op = RunnerOp::measure;
  request.jobs = jobs;
  request.options = options;
  // Generous: the runner enforces the per-kernel timeout itself; this catches a runner that hangs.
  const double per_job = 4 * options.rule.budget_seconds + 4 * options.kernel_timeout_seconds + 5;
  const auto timeout = std::chrono::milliseconds(static_cast<long>(1000 * (30 + per_job * static_cast<double>(jobs.size()))));
  bool died = false;
  auto response = exchange(request, timeout, died);
  if (died) {
    const bool hung = response.error().message == "timeout";
    auto status = process_->child.terminate(std::chrono::milliseconds(100));
    process_.reset();
    std::vector<KernelMeasurement> results(jobs.size());
    for (auto& r : results) {
      r.status = hung ? MeasureStatus::timeout : MeasureStatus::crash;
      r.message = hung ? "ktune-runner did not answer in time; killed" : "ktune-runner " + status.describe();
    }
    return results;
  }
  if (!response) return response.error();
  if (!response->ok) return make_error(Errc::internal, "ktune-runner: " + response->error);
  if (response->results.size() != jobs.size()) return make_error(Errc::internal, "ktune-runner answered for the wrong number of jobs");
  if (options.verify == VerifyMode::set_reference && response->results[0].status == MeasureStatus::ok) {
    reference_ = jobs[0];
    reference_options_ = options;
  }
  if (response->poisoned) {
    process_->child.wait_for(std::chrono::milliseconds(5000));
    process_.reset();  // respawned lazily by the next request
  }
  return std::move(response->results);
}

}  // namespace ktune::bench
