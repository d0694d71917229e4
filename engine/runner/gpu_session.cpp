#include "engine/runner/gpu_session.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/cuda/driver_check.hpp"
#include "engine/runner/host_data.hpp"
#include "engine/runner/measure_run.hpp"
#include "engine/runner/session_state.hpp"

namespace ktune::runner {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

// Polls rather than blocking in the driver (a blocking sync cannot time out). The first
// kSpinSeconds are a busy poll: a sleep, however short, lasts at least the thread's timer slack
// plus the wake-up latency (Linux's default slack alone is 50 µs), and a
// configuration of a 1 µs kernel waits six or more times (first run, reference copy, comparison,
// warm-up launches, sample rounds), so sleeping cost it more than its whole sampling. Sample
// rounds are sized to ~0.5 ms of GPU work, so nearly every wait ends inside the spin; longer
// waits then sleep in pauses of at most 100 µs (the runner also lowers its timer slack).
CUresult GpuSession::State::wait(double timeout_seconds) {
  constexpr double kSpinSeconds = 0.002;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(timeout_seconds);
  const auto spin_until = start + std::chrono::duration<double>(std::min(kSpinSeconds, timeout_seconds));
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    CUresult rc = api->cuStreamQuery(stream.get());
    if (rc != CUDA_ERROR_NOT_READY) return rc;
    const auto now = Clock::now();
    if (now > deadline) return CUDA_ERROR_LAUNCH_TIMEOUT;
    if (now < spin_until) {
      std::this_thread::yield();
      continue;
    }
    std::this_thread::sleep_for(pause);
    // Capped low: an overshoot of the pause is GPU time lost on every sample round.
    pause = std::min(pause * 2, std::chrono::microseconds(100));
  }
}

Status GpuSession::State::restore_outputs() {
  for (std::size_t b = 0; b < problem.buffers.size(); ++b) {
    if (!problem.buffers[b].output || problem.buffers[b].bytes == 0) continue;
    KTUNE_CU_TRY(*api, cuMemcpyDtoDAsync(buffers[b].get(), pristine[b].get(), problem.buffers[b].bytes, stream.get()));
  }
  return Ok{};
}

Status GpuSession::State::flush_l2() {
  ++flush_counter;
  KTUNE_CU_TRY(*api, cuMemsetD32Async(flush.get(), flush_counter, flush.bytes() / 4, stream.get()));
  return Ok{};
}

Status GpuSession::State::ensure_sample_events(std::size_t count) {
  while (sample_events.size() < count) {
    auto event = cuda::Event::create(*api, CU_EVENT_DEFAULT);
    if (!event) return event.error();
    sample_events.push_back(std::move(*event));
  }
  return Ok{};
}

void GpuSession::State::ramp_clocks(double max_seconds) {
  const auto ramp_start = Clock::now();
  for (;;) {
    if (clock) {
      auto mhz = clock->current_mhz();
      if (mhz && *mhz >= clock->max_mhz() * 9 / 10) return;
    } else if (seconds_since(ramp_start) > std::min(max_seconds, 0.3)) {
      return;  // no clock reading: a fixed ramp
    }
    if (seconds_since(ramp_start) >= max_seconds) return;
    for (int i = 0; i < 8; ++i)
      if (!flush_l2()) return;
    wait(5.0);
  }
}

namespace {

// The launch configuration of cuLaunchKernelEx and cuOccupancyMaxActiveClusters; `attribute` is
// filled with the cluster dimension and must outlive the result.
CUlaunchConfig cluster_launch_config(const LaunchShape& shape, CUstream stream, CUlaunchAttribute& attribute) {
  attribute = {};
  attribute.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  attribute.value.clusterDim.x = static_cast<unsigned>(shape.cluster[0]);
  attribute.value.clusterDim.y = static_cast<unsigned>(shape.cluster[1]);
  attribute.value.clusterDim.z = static_cast<unsigned>(shape.cluster[2]);
  CUlaunchConfig config{};
  config.gridDimX = static_cast<unsigned>(shape.grid[0]);
  config.gridDimY = static_cast<unsigned>(shape.grid[1]);
  config.gridDimZ = static_cast<unsigned>(shape.grid[2]);
  config.blockDimX = static_cast<unsigned>(shape.block[0]);
  config.blockDimY = static_cast<unsigned>(shape.block[1]);
  config.blockDimZ = static_cast<unsigned>(shape.block[2]);
  config.sharedMemBytes = static_cast<unsigned>(shape.dynamic_shared_bytes);
  config.hStream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  return config;
}

}  // namespace

Status GpuSession::State::check_cluster(CUfunction function, const LaunchShape& shape) {
  const std::string cluster = std::to_string(shape.cluster[0]) + "x" + std::to_string(shape.cluster[1]) + "x" +
                              std::to_string(shape.cluster[2]);
  if (shape.cluster_blocks() > kPortableClusterBlocks) {
    if (CUresult rc = api->cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1); rc != CUDA_SUCCESS)
      return make_error(Errc::invalid_argument, "a cluster of " + cluster + " blocks is above the portable 8 and this GPU does not allow more (" +
                                                    api->error_text(rc) + ")");
  }
  CUlaunchAttribute attribute;
  const CUlaunchConfig config = cluster_launch_config(shape, stream.get(), attribute);
  int clusters = 0;
  if (CUresult rc = api->cuOccupancyMaxActiveClusters(&clusters, function, &config); rc != CUDA_SUCCESS)
    return make_error(Errc::invalid_argument, "a cluster of " + cluster + " blocks cannot be placed (cuOccupancyMaxActiveClusters: " +
                                                  api->error_text(rc) + ")");
  if (clusters == 0)
    return make_error(Errc::invalid_argument, "a cluster of " + cluster + " blocks of this size cannot be placed on this GPU "
                                              "(cuOccupancyMaxActiveClusters is 0: registers or shared memory)");
  return Ok{};
}

CUresult GpuSession::State::launch(CUfunction function, const std::vector<void*>& params, const LaunchShape& shape) {
  if (shape.has_cluster()) {
    CUlaunchAttribute attribute;
    const CUlaunchConfig config = cluster_launch_config(shape, stream.get(), attribute);
    return api->cuLaunchKernelEx(&config, function, const_cast<void**>(params.data()), nullptr);
  }
  return api->cuLaunchKernel(function, static_cast<unsigned>(shape.grid[0]), static_cast<unsigned>(shape.grid[1]),
                             static_cast<unsigned>(shape.grid[2]), static_cast<unsigned>(shape.block[0]),
                             static_cast<unsigned>(shape.block[1]), static_cast<unsigned>(shape.block[2]),
                             static_cast<unsigned>(shape.dynamic_shared_bytes), stream.get(),
                             const_cast<void**>(params.data()), nullptr);
}

Result<std::unique_ptr<GpuSession>> GpuSession::open(int device_ordinal) {
  auto api = cuda::DriverApi::load();
  if (!api) return api.error();
  auto devices = cuda::list_devices();
  if (!devices) return devices.error();
  if (device_ordinal < 0 || device_ordinal >= static_cast<int>(devices->size()))
    return make_error(Errc::invalid_argument, "no GPU " + std::to_string(device_ordinal) + " (this machine has " +
                                                  std::to_string(devices->size()) + ")");
  std::unique_ptr<GpuSession> session(new GpuSession());
  session->state_ = std::make_unique<State>();
  State& s = *session->state_;
  s.api = *api;
  const cuda::DriverApi& d = **api;
  s.device = (*devices)[static_cast<std::size_t>(device_ordinal)];
  auto context = cuda::PrimaryContext::retain(d, device_ordinal);
  if (!context) return context.error();
  s.context = std::move(*context);
  auto stream = cuda::Stream::create(d, CU_STREAM_NON_BLOCKING);
  if (!stream) return stream.error();
  s.stream = std::move(*stream);
  auto start_event = cuda::Event::create(d, CU_EVENT_DEFAULT);
  if (!start_event) return start_event.error();
  s.start_event = std::move(*start_event);
  auto end_event = cuda::Event::create(d, CU_EVENT_DEFAULT);
  if (!end_event) return end_event.error();
  s.end_event = std::move(*end_event);

  s.limits.max_threads_per_block = s.device.max_threads_per_block;
  for (std::size_t i = 0; i < 3; ++i) {
    s.limits.max_block_dim[i] = s.device.max_block_dim[i];
    s.limits.max_grid_dim[i] = s.device.max_grid_dim[i];
  }
  s.limits.max_shared_memory_per_block = s.device.max_shared_memory_per_block;
  s.limits.max_shared_memory_per_block_optin = s.device.max_shared_memory_per_block_optin;
  s.limits.max_registers_per_block = s.device.max_registers_per_block;

  const std::size_t flush_bytes = std::max<std::size_t>(2 * static_cast<std::size_t>(s.device.l2_cache_bytes), 8u << 20);
  auto flush = cuda::DeviceBuffer::allocate(d, flush_bytes);
  if (!flush) return flush.error();
  s.flush = std::move(*flush);

  // CUPTI is optional: without it samples are timed with CUDA events and the result says so.
  if (auto timer = cuda::CuptiKernelTimer::start()) s.cupti = std::move(*timer);
  s.clock = cuda::SmClock::open(s.device.pci_bus_id);

  // Ramp the clocks from idle (~825 MHz on the H100) before anything is timed.
  s.ramp_clocks(1.0);
  s.last_busy = Clock::now();
  return session;
}

GpuSession::~GpuSession() = default;

const cuda::DeviceInfo& GpuSession::device() const noexcept { return state_->device; }
bool GpuSession::cupti_available() const noexcept { return state_->cupti != nullptr; }
bool GpuSession::poisoned() const noexcept { return state_->poisoned; }

Status GpuSession::set_problem(const Problem& problem) {
  State& s = *state_;
  const cuda::DriverApi& d = *s.api;
  s.buffers.clear();
  s.pristine.clear();
  s.staging.clear();
  s.reference.clear();
  s.has_reference = false;
  s.device_reference.clear();
  s.has_device_reference = false;
  s.answers.assign(problem.buffers.size(), {});
  s.reference_labels.assign(problem.buffers.size(), {});
  s.constant_data.clear();
  s.problem = problem;
  std::size_t free_bytes = 0, total_bytes = 0;
  KTUNE_CU_TRY(d, cuMemGetInfo(&free_bytes, &total_bytes));
  std::uint64_t needed = problem.total_bytes;
  for (const auto& b : problem.buffers)
    if (b.output) needed += b.bytes;
  if (needed + (64u << 20) > free_bytes)
    return make_error(Errc::invalid_argument, "the problem needs " + std::to_string(needed >> 20) + " MiB of GPU memory, " +
                                                  std::to_string(free_bytes >> 20) + " MiB are free");
  for (const auto& plan : problem.buffers) {
    // Zero-sized buffers still get a valid (tiny) allocation so the kernel sees a non-null pointer.
    const std::size_t bytes = std::max<std::uint64_t>(plan.bytes, 256);
    auto buffer = cuda::DeviceBuffer::allocate(d, bytes);
    if (!buffer) return buffer.error();
    const CUdeviceptr ptr = buffer->get();
    s.buffers.push_back(std::move(*buffer));
    // A copy is made on the GPU once every other buffer holds its data (below).
    const bool copy = plan.init.kind == BufferInit::Kind::copy;
    std::vector<std::byte> host(copy ? 0 : plan.bytes);
    if (!copy) {
      if (auto filled = fill_input(host, plan.type, plan.init); !filled)
        return make_error(filled.error().code, plan.name + ": " + filled.error().message);
      if (plan.bytes) KTUNE_CU_TRY(d, cuMemcpyHtoD(ptr, host.data(), plan.bytes));
    }
    if (plan.output) {
      auto copy_buffer = cuda::DeviceBuffer::allocate(d, bytes);
      if (!copy_buffer) return copy_buffer.error();
      if (plan.bytes && !copy) KTUNE_CU_TRY(d, cuMemcpyHtoD(copy_buffer->get(), host.data(), plan.bytes));
      s.pristine.push_back(std::move(*copy_buffer));
      auto pinned = cuda::PinnedHost::allocate(d, plan.bytes, bytes);
      if (!pinned) return pinned.error();
      s.staging.push_back(std::move(*pinned));
    } else {
      s.pristine.emplace_back();
      s.staging.emplace_back();
    }
  }
  for (std::size_t b = 0; b < problem.buffers.size(); ++b) {
    const BufferPlan& plan = problem.buffers[b];
    if (plan.init.kind != BufferInit::Kind::copy || plan.bytes == 0) continue;
    const CUdeviceptr source = s.buffers[plan.init.source].get();
    KTUNE_CU_TRY(d, cuMemcpyDtoDAsync(s.buffers[b].get(), source, plan.bytes, s.stream.get()));
    if (plan.output) KTUNE_CU_TRY(d, cuMemcpyDtoDAsync(s.pristine[b].get(), source, plan.bytes, s.stream.get()));
  }
  KTUNE_CU_TRY(d, cuStreamSynchronize(s.stream.get()));
  // Reference answers from files: read once per problem, they verify every configuration.
  for (std::size_t b = 0; b < problem.buffers.size(); ++b) {
    const BufferPlan& plan = problem.buffers[b];
    if (!plan.output || !plan.answer) continue;
    s.answers[b].resize(plan.bytes);
    if (auto loaded = load_data_file(plan.answer->path, plan.answer->format, plan.type, s.answers[b], plan.answer->digest); !loaded)
      return make_error(loaded.error().code, plan.name + ": the reference answer " + loaded.error().message);
  }
  for (const auto& constant : problem.constants) {
    std::vector<std::byte> data(constant.bytes);
    if (auto filled = fill_input(data, constant.type, constant.init); !filled)
      return make_error(filled.error().code, "__constant__ " + constant.symbol + ": " + filled.error().message);
    s.constant_data.push_back(std::move(data));
  }
  return Ok{};
}

std::vector<KernelMeasurement> GpuSession::measure(const std::vector<KernelJob>& jobs, const MeasureOptions& options) {
  return MeasureRun(*state_, jobs, options).run();
}

}  // namespace ktune::runner
