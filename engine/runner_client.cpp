#include "engine/runner_client.hpp"

#include "workers/process/supervised_child.hpp"

namespace ktune {

using process::ChildFate;
using runner::RunnerOp;
using runner::RunnerRequest;
using runner::RunnerResponse;

namespace {

std::chrono::steady_clock::time_point after(std::chrono::milliseconds timeout) {
  return std::chrono::steady_clock::now() + timeout;
}

}  // namespace

process::ExecutableSearch runner_search(const std::filesystem::path& explicit_path) {
  return {"ktune-runner",
          explicit_path,
          "KTUNE_RUNNER",
          {std::filesystem::path(KTUNE_BUILD_RUNNER), std::filesystem::path(KTUNE_INSTALL_BINDIR) / "ktune-runner"}};
}

Result<std::unique_ptr<GpuRunner>> GpuRunner::start(GpuRunnerOptions options) {
  auto path = process::locate_executable(runner_search(options.runner_path));
  if (!path) return path.error();
  std::unique_ptr<GpuRunner> runner(new GpuRunner());
  process::SupervisedChildOptions supervision;
  supervision.name = "ktune-runner";
  supervision.spawn = {*path, {"--device", std::to_string(options.device)}, {}};
  supervision.hello_type = runner::kRunnerHelloFrame;
  supervision.startup_timeout = options.startup_timeout;
  GpuRunner* self = runner.get();
  // A runner from another build, or one without a GPU, is refused at its hello.
  runner->child_ = std::make_unique<process::SupervisedChild>(supervision, [self](std::string_view payload) -> Status {
    auto hello = runner::decode_hello(payload);
    if (!hello) return hello.error();
    if (!hello->ok) return make_error(Errc::no_gpu, hello->error);
    self->hello_ = *hello;
    return Ok{};
  });
  if (auto ok = runner->child_->start(); !ok) return ok.error();
  return runner;
}

GpuRunner::~GpuRunner() {
  if (child_ && child_->has_child())
    child_->stop(std::chrono::milliseconds(2000), process::encode_frame(runner::kRunnerRequestFrame, runner::encode_request({})));
}

Result<RunnerResponse> GpuRunner::exchange(const RunnerRequest& request, std::chrono::milliseconds timeout) {
  process::Reply reply = child_->request(runner::kRunnerRequestFrame, runner::encode_request(request), after(timeout));
  if (reply.fate != ChildFate::answered) {
    std::string why = reply.fate == ChildFate::timeout ? "did not answer in time; killed"
                      : reply.exit                     ? reply.exit->describe()
                                                       : "failed: " + reply.error;
    return make_error(Errc::internal, "ktune-runner " + why);
  }
  if (reply.message.type != runner::kRunnerResponseFrame) {
    child_->kill();
    return make_error(Errc::internal, "ktune-runner sent an unexpected message");
  }
  auto response = runner::decode_response(reply.message.payload);
  if (!response) child_->kill();
  return response;
}

Status GpuRunner::ensure_running() {
  auto started = child_->ensure_running();
  if (!started) return started.error();
  if (!*started) return Ok{};
  ++restarts_;
  if (problem_) {
    RunnerRequest request;
    request.op = RunnerOp::problem;
    request.problem = *problem_;
    auto response = exchange(request, std::chrono::minutes(5));
    if (!response) return response.error();
    if (!response->ok) return make_error(Errc::internal, response->error);
  }
  if (reference_) {
    // The reference outputs lived in the old process: compute them again.
    RunnerRequest request;
    request.op = RunnerOp::measure;
    request.jobs = {*reference_};
    request.options = reference_options_;
    request.options.rule.min_samples = 1;
    request.options.rule.budget_seconds = 0;
    auto response = exchange(request, std::chrono::minutes(2));
    if (!response || response->results.empty() || response->results[0].status != MeasurementStatus::ok)
      return make_error(Errc::internal, "the reference configuration failed after a runner restart");
  }
  return Ok{};
}

Status GpuRunner::set_problem(const runner::Problem& problem) {
  problem_.reset();
  reference_.reset();
  if (auto ok = ensure_running(); !ok) return ok;
  RunnerRequest request;
  request.op = RunnerOp::problem;
  request.problem = problem;
  auto response = exchange(request, std::chrono::minutes(5));
  if (!response) return response.error();
  if (!response->ok) return make_error(Errc::invalid_argument, response->error);
  problem_ = problem;
  return Ok{};
}

void GpuRunner::release_problem() {
  const bool held = problem_.has_value();
  problem_.reset();
  reference_.reset();
  if (!held || !child_->has_child()) return;
  // An empty problem: the runner's set_problem frees every buffer before allocating the new ones.
  RunnerRequest request;
  request.op = RunnerOp::problem;
  (void)exchange(request, std::chrono::seconds(30));
}

Result<std::vector<runner::KernelMeasurement>> GpuRunner::measure(const std::vector<runner::KernelJob>& jobs,
                                                                  const runner::MeasureOptions& options) {
  if (auto ok = ensure_running(); !ok) return ok.error();
  RunnerRequest request;
  request.op = RunnerOp::measure;
  request.jobs = jobs;
  request.options = options;
  // Generous: the runner enforces the per-kernel timeout itself; this catches a runner that hangs.
  const double per_job = 4 * options.rule.budget_seconds + 4 * options.kernel_timeout_seconds + 5;
  const auto timeout = std::chrono::milliseconds(static_cast<long>(1000 * (30 + per_job * static_cast<double>(jobs.size()))));
  process::Reply reply = child_->request(runner::kRunnerRequestFrame, runner::encode_request(request), after(timeout));
  Result<RunnerResponse> response = make_error(Errc::internal, "ktune-runner sent an unexpected message");
  if (reply.fate == ChildFate::answered && reply.message.type == runner::kRunnerResponseFrame)
    response = runner::decode_response(reply.message.payload);
  if (!response || reply.fate != ChildFate::answered) {
    // The runner died, hung or spoke nonsense: every job in flight gets the blame, the runner goes.
    const bool hung = reply.fate == ChildFate::timeout;
    std::string how = reply.exit ? reply.exit->describe() : "was killed";
    if (reply.fate == ChildFate::answered) {
      child_->kill();
      how = "sent a malformed answer (" + response.error().message + ")";
    }
    std::vector<runner::KernelMeasurement> results(jobs.size());
    for (auto& r : results) {
      r.status = hung ? MeasurementStatus::timeout : MeasurementStatus::crash;
      r.message = hung ? "ktune-runner did not answer in time; killed" : "ktune-runner " + how;
    }
    return results;
  }
  if (!response->ok) return make_error(Errc::internal, "ktune-runner: " + response->error);
  if (response->results.size() != jobs.size()) return make_error(Errc::internal, "ktune-runner answered for the wrong number of jobs");
  if (options.verify == runner::VerifyMode::set_reference && response->results[0].status == MeasurementStatus::ok) {
    reference_ = jobs[0];
    reference_options_ = options;
  }
  if (response->poisoned) child_->stop(std::chrono::milliseconds(5000));  // respawned lazily by the next request
  return std::move(response->results);
}

}  // namespace ktune
