#include "engine/bench/gpu_session.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <thread>

#include "engine/bench/host_data.hpp"
#include "engine/cuda/cupti_timer.hpp"
#include "engine/cuda/driver_check.hpp"
#include "engine/cuda/sm_clock.hpp"

namespace ktune::bench {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// One device allocation; freed by its destructor.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const cuda::DriverApi* api, CUdeviceptr ptr, std::size_t bytes) : api_(api), ptr_(ptr), bytes_(bytes) {}
  DeviceBuffer(DeviceBuffer&& o) noexcept : api_(o.api_), ptr_(std::exchange(o.ptr_, 0)), bytes_(o.bytes_) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      api_ = o.api_;
      ptr_ = std::exchange(o.ptr_, 0);
      bytes_ = o.bytes_;
    }
    return *this;
  }
  ~DeviceBuffer() { release(); }
  CUdeviceptr get() const noexcept { return ptr_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  void release() noexcept {
    if (ptr_) api_->cuMemFree(ptr_);
    ptr_ = 0;
  }
  const cuda::DriverApi* api_ = nullptr;
  CUdeviceptr ptr_ = 0;
  std::size_t bytes_ = 0;
};

// Page-locked host memory for reading outputs back: pageable copies of tens of MiB cost more
// than the kernel being verified. Freed by its destructor.
class PinnedHost {
 public:
  PinnedHost() = default;
  PinnedHost(const cuda::DriverApi* api, void* ptr, std::size_t bytes) : api_(api), ptr_(ptr), bytes_(bytes) {}
  PinnedHost(PinnedHost&& o) noexcept : api_(o.api_), ptr_(std::exchange(o.ptr_, nullptr)), bytes_(o.bytes_) {}
  PinnedHost& operator=(PinnedHost&& o) noexcept {
    if (this != &o) {
      if (ptr_) api_->cuMemFreeHost(ptr_);
      api_ = o.api_;
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = o.bytes_;
    }
    return *this;
  }
  ~PinnedHost() {
    if (ptr_) api_->cuMemFreeHost(ptr_);
  }
  std::span<std::byte> bytes() const noexcept { return {static_cast<std::byte*>(ptr_), bytes_}; }

 private:
  const cuda::DriverApi* api_ = nullptr;
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// A loaded cubin; unloaded by its destructor.
class LoadedLibrary {
 public:
  LoadedLibrary(const cuda::DriverApi* api, CUlibrary library) : api_(api), library_(library) {}
  LoadedLibrary(LoadedLibrary&& o) noexcept : api_(o.api_), library_(std::exchange(o.library_, nullptr)) {}
  LoadedLibrary(const LoadedLibrary&) = delete;
  ~LoadedLibrary() {
    if (library_) api_->cuLibraryUnload(library_);
  }
  CUlibrary get() const noexcept { return library_; }

 private:
  const cuda::DriverApi* api_;
  CUlibrary library_;
};

struct PreparedKernel {
  std::optional<LoadedLibrary> library;
  CUfunction function = nullptr;
  KernelAttributes attributes;
  std::vector<std::vector<std::byte>> scalar_bytes;
  std::vector<void*> params;  // pointers into device pointer storage and scalar_bytes
  std::vector<CUdeviceptr> pointer_storage;
  std::vector<double> samples;
  std::vector<unsigned> sample_clocks;
  KernelMeasurement result;
  bool done = false;
  Clock::time_point started;
};

}  // namespace

struct GpuSession::State {
  const cuda::DriverApi* api = nullptr;
  cuda::DeviceInfo device;
  CUdevice handle = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  CUevent start_event = nullptr, end_event = nullptr;
  DeviceLimits limits;
  std::unique_ptr<cuda::CuptiKernelTimer> cupti;
  std::unique_ptr<cuda::SmClock> clock;
  DeviceBuffer flush;
  Problem problem;
  std::vector<DeviceBuffer> buffers;
  std::vector<DeviceBuffer> pristine;  // initial contents of each output, restored before launches
  std::vector<PinnedHost> staging;     // per output: where outputs are read back for verification
  std::vector<std::vector<std::byte>> reference;  // outputs of the reference configuration
  bool has_reference = false;
  bool poisoned = false;
  std::uint32_t flush_counter = 0;

  ~State() {
    buffers.clear();
    pristine.clear();
    staging.clear();
    flush = DeviceBuffer();
    cupti.reset();
    if (start_event) api->cuEventDestroy(start_event);
    if (end_event) api->cuEventDestroy(end_event);
    if (stream) api->cuStreamDestroy(stream);
    if (context) api->cuDevicePrimaryCtxRelease(handle);
  }

  // Waits for the stream with a deadline, polling, so a kernel that never ends is detected.
  // Returns the CUresult of the stream, or CUDA_ERROR_LAUNCH_TIMEOUT when the deadline passed.
  CUresult wait(double timeout_seconds) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_seconds);
    auto pause = std::chrono::microseconds(20);
    for (;;) {
      CUresult rc = api->cuStreamQuery(stream);
      if (rc != CUDA_ERROR_NOT_READY) return rc;
      if (Clock::now() > deadline) return CUDA_ERROR_LAUNCH_TIMEOUT;
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(2000));
    }
  }

  Status restore_outputs() {
    for (std::size_t b = 0; b < problem.buffers.size(); ++b) {
      if (!problem.buffers[b].output || problem.buffers[b].bytes == 0) continue;
      KTUNE_CU_TRY(*api, cuMemcpyDtoDAsync(buffers[b].get(), pristine[b].get(), problem.buffers[b].bytes, stream));
    }
    return Ok{};
  }

  Status flush_l2() {
    // Writing twice the L2's worth of fresh values evicts whatever the last sample left there.
    ++flush_counter;
    KTUNE_CU_TRY(*api, cuMemsetD32Async(flush.get(), flush_counter, flush.bytes() / 4, stream));
    return Ok{};
  }

  CUresult launch(const PreparedKernel& k, const LaunchPlan& plan) {
    return api->cuLaunchKernel(k.function, static_cast<unsigned>(plan.shape.grid[0]), static_cast<unsigned>(plan.shape.grid[1]),
                               static_cast<unsigned>(plan.shape.grid[2]), static_cast<unsigned>(plan.shape.block[0]),
                               static_cast<unsigned>(plan.shape.block[1]), static_cast<unsigned>(plan.shape.block[2]),
                               static_cast<unsigned>(plan.shape.dynamic_shared_bytes), stream,
                               const_cast<void**>(k.params.data()), nullptr);
  }
};

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
  KTUNE_CU_TRY(d, cuDeviceGet(&s.handle, device_ordinal));
  KTUNE_CU_TRY(d, cuDevicePrimaryCtxRetain(&s.context, s.handle));
  KTUNE_CU_TRY(d, cuCtxSetCurrent(s.context));
  KTUNE_CU_TRY(d, cuStreamCreate(&s.stream, CU_STREAM_NON_BLOCKING));
  KTUNE_CU_TRY(d, cuEventCreate(&s.start_event, CU_EVENT_DEFAULT));
  KTUNE_CU_TRY(d, cuEventCreate(&s.end_event, CU_EVENT_DEFAULT));

  s.limits.max_threads_per_block = s.device.max_threads_per_block;
  for (std::size_t i = 0; i < 3; ++i) {
    s.limits.max_block_dim[i] = s.device.max_block_dim[i];
    s.limits.max_grid_dim[i] = s.device.max_grid_dim[i];
  }
  s.limits.max_shared_memory_per_block = s.device.max_shared_memory_per_block;
  s.limits.max_shared_memory_per_block_optin = s.device.max_shared_memory_per_block_optin;
  s.limits.max_registers_per_block = s.device.max_registers_per_block;

  const std::size_t flush_bytes = std::max<std::size_t>(2 * static_cast<std::size_t>(s.device.l2_cache_bytes), 8u << 20);
  CUdeviceptr flush = 0;
  KTUNE_CU_TRY(d, cuMemAlloc(&flush, flush_bytes));
  s.flush = DeviceBuffer(&d, flush, flush_bytes);

  // CUPTI is optional: without it samples are timed with CUDA events and the result says so.
  if (auto timer = cuda::CuptiKernelTimer::start()) s.cupti = std::move(*timer);
  s.clock = cuda::SmClock::open(s.device.pci_bus_id);

  // Ramp the clocks from idle (~825 MHz on the H100) before anything is timed.
  const auto ramp_start = Clock::now();
  while (seconds_since(ramp_start) < 1.0) {
    for (int i = 0; i < 8; ++i)
      if (!s.flush_l2()) break;
    s.wait(5.0);
    if (s.clock && seconds_since(ramp_start) > 0.1) {
      auto mhz = s.clock->current_mhz();
      if (mhz && *mhz >= s.clock->max_mhz() * 9 / 10) break;
    }
    if (!s.clock && seconds_since(ramp_start) > 0.3) break;
  }
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
    CUdeviceptr ptr = 0;
    // Zero-sized buffers still get a valid (tiny) allocation so the kernel sees a non-null pointer.
    const std::size_t bytes = std::max<std::uint64_t>(plan.bytes, 256);
    KTUNE_CU_TRY(d, cuMemAlloc(&ptr, bytes));
    s.buffers.emplace_back(&d, ptr, bytes);
    std::vector<std::byte> host(plan.bytes);
    fill_buffer(host, plan.type, plan.init);
    if (plan.bytes) KTUNE_CU_TRY(d, cuMemcpyHtoD(ptr, host.data(), plan.bytes));
    if (plan.output) {
      CUdeviceptr copy = 0;
      KTUNE_CU_TRY(d, cuMemAlloc(&copy, bytes));
      s.pristine.emplace_back(&d, copy, bytes);
      if (plan.bytes) KTUNE_CU_TRY(d, cuMemcpyHtoD(copy, host.data(), plan.bytes));
      void* pinned = nullptr;
      KTUNE_CU_TRY(d, cuMemAllocHost(&pinned, bytes));
      s.staging.emplace_back(&d, pinned, plan.bytes);
    } else {
      s.pristine.emplace_back();
      s.staging.emplace_back();
    }
  }
  return Ok{};
}

namespace {

// Loads the cubin, reads its attributes, checks the launch: anything wrong is a status, not a launch.
void prepare(GpuSession::State& s, const KernelJob& job, PreparedKernel& k) {
  const cuda::DriverApi& d = *s.api;
  auto fail = [&](MeasureStatus status, std::string message) {
    k.result.status = status;
    k.result.message = std::move(message);
    k.done = true;
  };
  CUlibrary library = nullptr;
  if (CUresult rc = d.cuLibraryLoadData(&library, job.cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0); rc != CUDA_SUCCESS)
    return fail(MeasureStatus::launch_error, "cannot load the cubin: " + d.error_text(rc));
  k.library.emplace(&d, library);
  CUkernel kernel = nullptr;
  if (CUresult rc = d.cuLibraryGetKernel(&kernel, library, job.lowered_name.c_str()); rc != CUDA_SUCCESS)
    return fail(MeasureStatus::launch_error, "no kernel named " + job.lowered_name + " in the cubin: " + d.error_text(rc));
  if (CUresult rc = d.cuKernelGetFunction(&k.function, kernel); rc != CUDA_SUCCESS)
    return fail(MeasureStatus::launch_error, "cuKernelGetFunction: " + d.error_text(rc));
  auto attr = [&](CUfunction_attribute a) {
    int v = 0;
    d.cuFuncGetAttribute(&v, a, k.function);
    return v;
  };
  k.attributes.registers_per_thread = attr(CU_FUNC_ATTRIBUTE_NUM_REGS);
  k.attributes.static_shared_bytes = attr(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
  k.attributes.local_bytes_per_thread = attr(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES);
  k.attributes.max_threads_per_block = attr(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  k.result.registers = k.attributes.registers_per_thread;
  k.result.static_shared_bytes = k.attributes.static_shared_bytes;
  k.result.local_bytes = k.attributes.local_bytes_per_thread;

  const LaunchShape& shape = job.launch.shape;
  if (auto ok = check_launch(s.limits, k.attributes, shape); !ok) return fail(MeasureStatus::invalid_config, ok.error().message);
  if (needs_shared_memory_opt_in(s.limits, k.attributes, shape)) {
    if (CUresult rc = d.cuFuncSetAttribute(k.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                           static_cast<int>(shape.dynamic_shared_bytes));
        rc != CUDA_SUCCESS)
      return fail(MeasureStatus::invalid_config, "cannot allow " + std::to_string(shape.dynamic_shared_bytes) +
                                                     " bytes of dynamic shared memory: " + d.error_text(rc));
  }
  int blocks_per_sm = 0;
  const int threads = static_cast<int>(shape.block[0] * shape.block[1] * shape.block[2]);
  if (CUresult rc = d.cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks_per_sm, k.function, threads,
                                                                   static_cast<std::size_t>(shape.dynamic_shared_bytes));
      rc != CUDA_SUCCESS || blocks_per_sm == 0)
    return fail(MeasureStatus::invalid_config, "not even one block of " + std::to_string(threads) +
                                                   " threads fits on an SM (registers or shared memory)");

  // Kernel parameters: pointers to each argument's value, in kernel order.
  std::size_t buffers = 0;
  for (const auto& slot : s.problem.args) buffers += slot.is_buffer ? 1 : 0;
  k.pointer_storage.reserve(buffers);
  k.scalar_bytes.reserve(job.launch.scalars.size());
  for (const auto& slot : s.problem.args) {
    if (slot.is_buffer) {
      k.pointer_storage.push_back(s.buffers[slot.index].get());
      k.params.push_back(&k.pointer_storage.back());
    } else {
      if (slot.index >= job.launch.scalars.size()) return fail(MeasureStatus::invalid_config, "scalar argument missing");
      k.scalar_bytes.push_back(job.launch.scalars[slot.index].bytes());
      k.params.push_back(k.scalar_bytes.back().data());
    }
  }
}

}  // namespace

std::vector<KernelMeasurement> GpuSession::measure(const std::vector<KernelJob>& jobs, const MeasureOptions& options) {
  State& s = *state_;
  const cuda::DriverApi& d = *s.api;
  std::vector<PreparedKernel> kernels(jobs.size());

  // A failed launch or wait: classify, poison the session when the context cannot recover.
  auto launch_failed = [&](PreparedKernel& k, CUresult rc, const char* when) {
    k.done = true;
    if (rc == CUDA_ERROR_LAUNCH_TIMEOUT) {
      k.result.status = MeasureStatus::timeout;
      k.result.message = std::string("still running after ") + std::to_string(options.kernel_timeout_seconds) + " s (" + when + ")";
      s.poisoned = true;
      return;
    }
    k.result.status = MeasureStatus::launch_error;
    k.result.message = std::string(when) + ": " + d.error_text(rc);
    if (cuda::is_sticky(rc)) s.poisoned = true;
  };

  for (std::size_t i = 0; i < jobs.size() && !s.poisoned; ++i) {
    PreparedKernel& k = kernels[i];
    k.started = Clock::now();
    prepare(s, jobs[i], k);
    if (k.done) continue;

    // First launch: correctness, and the reference for later configurations. A launch from the
    // restored outputs, timed with events; nullopt when it failed (k is then done).
    auto timed_launch = [&](const char* when) -> std::optional<float> {
      if (auto ok = s.restore_outputs(); !ok) {
        k.done = true;
        k.result.status = MeasureStatus::launch_error;
        k.result.message = ok.error().message;
        return std::nullopt;
      }
      d.cuEventRecord(s.start_event, s.stream);
      if (CUresult rc = s.launch(k, jobs[i].launch); rc != CUDA_SUCCESS) {
        launch_failed(k, rc, "launch");
        return std::nullopt;
      }
      d.cuEventRecord(s.end_event, s.stream);
      if (CUresult rc = s.wait(options.kernel_timeout_seconds); rc != CUDA_SUCCESS) {
        launch_failed(k, rc, when);
        return std::nullopt;
      }
      float ms = 0;
      d.cuEventElapsedTime(&ms, s.start_event, s.end_event);
      return ms;
    };
    // Events time a launch, not only the kernel (the best is CUPTI kernel time): the slack keeps
    // launch latency from making a kernel of a few microseconds look hopeless.
    constexpr double kEventSlackNs = 50e3;
    auto hopeless = [&](float ms) {
      return options.best_median_ns && 1e6 * ms > 2 * options.rule.prune_factor * *options.best_median_ns + kEventSlackNs;
    };
    std::optional<float> first_ms = timed_launch("first run");
    if (!first_ms) continue;
    // Hopeless from one run alone: no verification, no samples. The first launch of a freshly
    // loaded module also pays for lazy loading — hundreds of microseconds, several times a short
    // kernel (every reduce_rows configuration at 8192² was pruned on the H100 before this) — so a
    // second launch confirms before a configuration is called hopeless.
    if (hopeless(*first_ms)) {
      std::optional<float> second_ms = timed_launch("second run");
      if (!second_ms) continue;
      if (hopeless(*second_ms)) {
        k.samples.push_back(1e6 * static_cast<double>(*second_ms));
        k.result.timer = "events";
        k.result.status = MeasureStatus::pruned;
        k.result.message = "two runs were each far slower than the best so far";
        k.done = true;
        continue;
      }
    }
    if (options.verify != VerifyMode::none) {
      std::vector<std::span<const std::byte>> outputs;
      for (std::size_t b = 0; b < s.problem.buffers.size(); ++b) {
        if (!s.problem.buffers[b].output) continue;
        std::span<std::byte> staging = s.staging[b].bytes();
        outputs.push_back(staging);
        if (CUresult rc = d.cuMemcpyDtoH(staging.data(), s.buffers[b].get(), s.problem.buffers[b].bytes); rc != CUDA_SUCCESS) {
          launch_failed(k, rc, "reading the outputs");
          break;
        }
      }
      if (k.done) continue;
      if (options.verify == VerifyMode::set_reference) {
        s.reference.clear();
        for (auto out : outputs) s.reference.emplace_back(out.begin(), out.end());
        s.has_reference = true;
      } else if (s.has_reference) {
        std::size_t o = 0;
        for (std::size_t b = 0; b < s.problem.buffers.size() && !k.done; ++b) {
          const BufferPlan& plan = s.problem.buffers[b];
          if (!plan.output) continue;
          Comparison c = compare_buffers(plan.type, s.reference[o], outputs[o], options.rtol, options.atol);
          k.result.max_abs_error = std::max(k.result.max_abs_error, c.max_abs_error);
          k.result.max_rel_error = std::max(k.result.max_rel_error, c.max_rel_error);
          if (!c.ok()) {
            k.done = true;
            k.result.status = MeasureStatus::wrong_result;
            k.result.message = plan.name + ": " + std::to_string(c.mismatches) + " of " + std::to_string(c.compared) +
                               " elements differ from the reference; first at [" + std::to_string(c.first_mismatch) +
                               "]: " + std::to_string(c.got_at_first) + " instead of " + std::to_string(c.expected_at_first);
          }
          ++o;
        }
        if (k.done) continue;
      } else {
        k.done = true;
        k.result.status = MeasureStatus::launch_error;
        k.result.message = "no reference outputs to compare with (the reference configuration was not measured)";
        continue;
      }
    }

    // Warm-up: lazy loading, instruction caches and clocks.
    const auto warm_start = Clock::now();
    int launches = 0;
    while (launches < 2 || seconds_since(warm_start) < options.warmup_seconds) {
      CUresult rc = s.launch(k, jobs[i].launch);
      if (rc == CUDA_SUCCESS) rc = s.wait(options.kernel_timeout_seconds);
      if (rc != CUDA_SUCCESS) {
        launch_failed(k, rc, "warm-up");
        break;
      }
      if (++launches >= 1000) break;
    }
  }
  if (s.cupti) (void)s.cupti->collect();  // discard the records of first runs and warm-ups

  // Sampling, round robin over the kernels still going (A B C A B C ...).
  // The stop rule's budget counts sampling only; wall_seconds (reported) counts everything.
  const auto sampling_start = Clock::now();
  for (;;) {
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < kernels.size(); ++i)
      if (!kernels[i].done) active.push_back(i);
    if (active.empty() || s.poisoned) break;

    const unsigned mhz = s.clock ? s.clock->current_mhz().value_or(0) : 0;  // 0: unknown
    constexpr int kBatch = 5;
    std::vector<std::pair<std::size_t, float>> event_times;  // kernel index, ms
    for (int sample = 0; sample < kBatch && !s.poisoned; ++sample) {
      for (std::size_t i : active) {
        PreparedKernel& k = kernels[i];
        if (k.done) continue;
        if (auto ok = s.restore_outputs(); !ok) { k.done = true; k.result.status = MeasureStatus::launch_error; k.result.message = ok.error().message; continue; }
        if (options.flush_l2)
          if (auto ok = s.flush_l2(); !ok) { k.done = true; k.result.status = MeasureStatus::launch_error; k.result.message = ok.error().message; continue; }
        d.cuEventRecord(s.start_event, s.stream);
        CUresult rc = s.launch(k, jobs[i].launch);
        d.cuEventRecord(s.end_event, s.stream);
        if (rc == CUDA_SUCCESS) rc = s.wait(options.kernel_timeout_seconds);
        if (rc != CUDA_SUCCESS) {
          launch_failed(k, rc, "sampling");
          continue;
        }
        float ms = 0;
        d.cuEventElapsedTime(&ms, s.start_event, s.end_event);
        event_times.emplace_back(i, ms);
      }
    }
    if (s.poisoned) break;

    // Kernel times: CUPTI records in launch order, one per sampled launch; events otherwise.
    std::vector<double> times(event_times.size());
    bool cupti_used = false;
    if (s.cupti) {
      auto records = s.cupti->collect();  // always drained, so records never pile up
      if (!options.use_cupti) records = make_error(Errc::unsupported, "events requested");
      if (records && records->size() == event_times.size()) {
        for (std::size_t r = 0; r < records->size(); ++r) times[r] = (*records)[r].duration_ns();
        cupti_used = true;
      }
    }
    if (!cupti_used)
      for (std::size_t r = 0; r < event_times.size(); ++r) times[r] = 1e6 * static_cast<double>(event_times[r].second);

    const unsigned mhz_after = s.clock ? s.clock->current_mhz().value_or(0) : 0;
    // A batch taken while the clock sagged (throttling) is dropped rather than averaged in.
    const bool throttled = s.clock && mhz && mhz_after && std::min(mhz, mhz_after) < s.clock->max_mhz() * 8 / 10;
    for (std::size_t r = 0; r < event_times.size(); ++r) {
      PreparedKernel& k = kernels[event_times[r].first];
      k.result.timer = cupti_used ? "cupti" : "events";
      if (mhz_after) k.result.sm_clock_mhz = mhz_after;
      if (throttled && k.samples.size() + k.result.dropped_samples < options.rule.max_samples * 2) {
        ++k.result.dropped_samples;
        continue;
      }
      k.samples.push_back(times[r]);
    }
    for (std::size_t i : active) {
      PreparedKernel& k = kernels[i];
      if (k.done) continue;
      StopDecision decision = decide(k.samples, seconds_since(sampling_start) / static_cast<double>(active.size()),
                                     options.rule, options.best_median_ns);
      if (decision == StopDecision::keep_going) continue;
      k.done = true;
      if (decision == StopDecision::pruned) {
        k.result.status = MeasureStatus::pruned;
        k.result.message = "clearly slower than the best so far after " + std::to_string(k.samples.size()) + " samples";
      }
    }
  }

  std::vector<KernelMeasurement> out;
  for (auto& k : kernels) {
    if (k.result.status == MeasureStatus::ok || k.result.status == MeasureStatus::pruned) k.result.stats = summarize(k.samples);
    if (k.result.status == MeasureStatus::ok && k.samples.empty() && !k.done) {
      k.result.status = MeasureStatus::crash;
      k.result.message = "the GPU context was lost before this configuration was measured";
    }
    k.result.wall_seconds = seconds_since(k.started);
    out.push_back(std::move(k.result));
  }
  return out;
}

}  // namespace ktune::bench
