#include "engine/runner/measure_run.hpp"

#include <algorithm>
#include <span>

#include "engine/cuda/driver_check.hpp"
#include "engine/runner/host_data.hpp"

namespace ktune::runner {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Samples are taken in batches: the SM clock is read around a batch, and CUPTI flushed once.
constexpr int kBatch = 5;
// Events time a launch, not only the kernel (the best is CUPTI kernel time): the slack keeps
// launch latency from making a kernel of a few microseconds look hopeless.
constexpr double kEventSlackNs = 50e3;

}  // namespace

MeasureRun::MeasureRun(GpuSession::State& session, const std::vector<KernelJob>& jobs, const MeasureOptions& options)
    : s_(session), d_(*session.api), options_(options), kernels_(jobs.size()) {
  for (std::size_t i = 0; i < jobs.size(); ++i) kernels_[i].job = &jobs[i];
}

std::vector<KernelMeasurement> MeasureRun::run() {
  for (auto& k : kernels_) {
    if (s_.poisoned) break;
    k.started = Clock::now();
    prepare(k);
    if (!k.done) first_run(k);
    if (!k.done) verify(k);
    if (!k.done) warm_up(k);
  }
  if (s_.cupti) (void)s_.cupti->collect();  // discard the records of first runs and warm-ups
  sample_rounds();
  return summarise();
}

void MeasureRun::fail(Kernel& k, MeasurementStatus status, std::string message) {
  k.result.status = status;
  k.result.message = std::move(message);
  k.done = true;
}

// A failed launch or wait: classify, poison the session when the context cannot recover.
void MeasureRun::launch_failed(Kernel& k, CUresult rc, const char* when) {
  if (rc == CUDA_ERROR_LAUNCH_TIMEOUT) {
    fail(k, MeasurementStatus::timeout,
         std::string("still running after ") + std::to_string(options_.kernel_timeout_seconds) + " s (" + when + ")");
    s_.poisoned = true;
    return;
  }
  fail(k, MeasurementStatus::launch_error, std::string(when) + ": " + d_.error_text(rc));
  if (cuda::is_sticky(rc)) s_.poisoned = true;
}

// Loads the cubin, reads its attributes, checks the launch: anything wrong is a status, not a launch.
void MeasureRun::prepare(Kernel& k) {
  const KernelJob& job = *k.job;
  CUlibrary library = nullptr;
  if (CUresult rc = d_.cuLibraryLoadData(&library, job.cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0); rc != CUDA_SUCCESS)
    return fail(k, MeasurementStatus::launch_error, "cannot load the cubin: " + d_.error_text(rc));
  k.library = cuda::LoadedLibrary(&d_, library);
  CUkernel kernel = nullptr;
  if (CUresult rc = d_.cuLibraryGetKernel(&kernel, library, job.lowered_name.c_str()); rc != CUDA_SUCCESS)
    return fail(k, MeasurementStatus::launch_error, "no kernel named " + job.lowered_name + " in the cubin: " + d_.error_text(rc));
  if (CUresult rc = d_.cuKernelGetFunction(&k.function, kernel); rc != CUDA_SUCCESS)
    return fail(k, MeasurementStatus::launch_error, "cuKernelGetFunction: " + d_.error_text(rc));
  auto attr = [&](CUfunction_attribute a) {
    int v = 0;
    d_.cuFuncGetAttribute(&v, a, k.function);
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
  if (auto ok = check_launch(s_.limits, k.attributes, shape); !ok) return fail(k, MeasurementStatus::invalid_config, ok.error().message);
  if (needs_shared_memory_opt_in(s_.limits, k.attributes, shape)) {
    if (CUresult rc = d_.cuFuncSetAttribute(k.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                            static_cast<int>(shape.dynamic_shared_bytes));
        rc != CUDA_SUCCESS)
      return fail(k, MeasurementStatus::invalid_config, "cannot allow " + std::to_string(shape.dynamic_shared_bytes) +
                                                        " bytes of dynamic shared memory: " + d_.error_text(rc));
  }
  int blocks_per_sm = 0;
  const int threads = static_cast<int>(shape.block[0] * shape.block[1] * shape.block[2]);
  if (CUresult rc = d_.cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks_per_sm, k.function, threads,
                                                                    static_cast<std::size_t>(shape.dynamic_shared_bytes));
      rc != CUDA_SUCCESS || blocks_per_sm == 0)
    return fail(k, MeasurementStatus::invalid_config, "not even one block of " + std::to_string(threads) +
                                                      " threads fits on an SM (registers or shared memory)");

  // Kernel parameters: pointers to each argument's value, in kernel order.
  std::size_t buffers = 0;
  for (const auto& slot : s_.problem.args) buffers += slot.is_buffer ? 1 : 0;
  k.pointer_storage.reserve(buffers);
  k.scalar_bytes.reserve(job.launch.scalars.size());
  for (const auto& slot : s_.problem.args) {
    if (slot.is_buffer) {
      k.pointer_storage.push_back(s_.buffers[slot.index].get());
      k.params.push_back(&k.pointer_storage.back());
    } else {
      if (slot.index >= job.launch.scalars.size()) return fail(k, MeasurementStatus::invalid_config, "scalar argument missing");
      k.scalar_bytes.push_back(job.launch.scalars[slot.index].bytes());
      k.params.push_back(k.scalar_bytes.back().data());
    }
  }
}

// A launch from the restored outputs, timed with events; nullopt when it failed (k is then done).
std::optional<float> MeasureRun::timed_launch(Kernel& k, const char* when) {
  if (auto ok = s_.restore_outputs(); !ok) {
    fail(k, MeasurementStatus::launch_error, ok.error().message);
    return std::nullopt;
  }
  d_.cuEventRecord(s_.start_event.get(), s_.stream.get());
  if (CUresult rc = s_.launch(k.function, k.params, k.job->launch); rc != CUDA_SUCCESS) {
    launch_failed(k, rc, "launch");
    return std::nullopt;
  }
  d_.cuEventRecord(s_.end_event.get(), s_.stream.get());
  if (CUresult rc = s_.wait(options_.kernel_timeout_seconds); rc != CUDA_SUCCESS) {
    launch_failed(k, rc, when);
    return std::nullopt;
  }
  float ms = 0;
  d_.cuEventElapsedTime(&ms, s_.start_event.get(), s_.end_event.get());
  return ms;
}

bool MeasureRun::hopeless(float event_ms) const {
  return options_.best_median_ns &&
         1e6 * event_ms > 2 * options_.rule.prune_factor * *options_.best_median_ns + kEventSlackNs;
}

// First launch: correctness (the outputs verify() reads), and a configuration hopeless from one
// run alone gets no verification and no samples. The first launch of a freshly loaded module also
// pays for lazy loading — hundreds of microseconds, several times a short kernel (every
// reduce_rows configuration at 8192² was pruned on the H100 before this) — so a second launch
// confirms before a configuration is called hopeless.
void MeasureRun::first_run(Kernel& k) {
  std::optional<float> first_ms = timed_launch(k, "first run");
  if (!first_ms || !hopeless(*first_ms)) return;
  std::optional<float> second_ms = timed_launch(k, "second run");
  if (!second_ms || !hopeless(*second_ms)) return;
  k.samples.push_back(1e6 * static_cast<double>(*second_ms));
  k.result.timer = "events";
  fail(k, MeasurementStatus::pruned, "two runs were each far slower than the best so far");
}

// Reads the outputs of the first run back and keeps them as the reference, or compares them with it.
void MeasureRun::verify(Kernel& k) {
  if (options_.verify == VerifyMode::none) return;
  const auto& buffers = s_.problem.buffers;
  std::vector<std::span<const std::byte>> outputs;
  for (std::size_t b = 0; b < buffers.size(); ++b) {
    if (!buffers[b].output) continue;
    std::span<std::byte> staging = s_.staging[b].bytes();
    outputs.push_back(staging);
    if (CUresult rc = d_.cuMemcpyDtoH(staging.data(), s_.buffers[b].get(), buffers[b].bytes); rc != CUDA_SUCCESS)
      return launch_failed(k, rc, "reading the outputs");
  }
  if (options_.verify == VerifyMode::set_reference) {
    s_.reference.clear();
    for (auto out : outputs) s_.reference.emplace_back(out.begin(), out.end());
    s_.has_reference = true;
    return;
  }
  if (!s_.has_reference)
    return fail(k, MeasurementStatus::launch_error, "no reference outputs to compare with (the reference configuration was not measured)");
  std::size_t o = 0;
  for (std::size_t b = 0; b < buffers.size(); ++b) {
    const BufferPlan& plan = buffers[b];
    if (!plan.output) continue;
    Comparison c = compare_buffers(plan.type, s_.reference[o], outputs[o], options_.rtol, options_.atol);
    k.result.max_abs_error = std::max(k.result.max_abs_error, c.max_abs_error);
    k.result.max_rel_error = std::max(k.result.max_rel_error, c.max_rel_error);
    if (!c.ok())
      return fail(k, MeasurementStatus::wrong_result,
                  plan.name + ": " + std::to_string(c.mismatches) + " of " + std::to_string(c.compared) +
                      " elements differ from the reference; first at [" + std::to_string(c.first_mismatch) +
                      "]: " + std::to_string(c.got_at_first) + " instead of " + std::to_string(c.expected_at_first));
    ++o;
  }
}

// Lazy loading, instruction caches and clocks: at least 2 launches and warmup_seconds.
void MeasureRun::warm_up(Kernel& k) {
  const auto warm_start = Clock::now();
  int launches = 0;
  while (launches < 2 || seconds_since(warm_start) < options_.warmup_seconds) {
    CUresult rc = s_.launch(k.function, k.params, k.job->launch);
    if (rc == CUDA_SUCCESS) rc = s_.wait(options_.kernel_timeout_seconds);
    if (rc != CUDA_SUCCESS) return launch_failed(k, rc, "warm-up");
    if (++launches >= 1000) break;
  }
}

// Round robin over the kernels still going (A B C A B C ...), so a drift in clocks cannot favour
// one of them, until each one's criteria are satisfied. The budget counts sampling only;
// wall_seconds (reported) counts everything.
void MeasureRun::sample_rounds() {
  for (auto& k : kernels_)
    if (!k.done) k.criteria = make_criteria(options_.rule, options_.best_median_ns);
  const auto sampling_start = Clock::now();
  for (;;) {
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < kernels_.size(); ++i)
      if (!kernels_[i].done) active.push_back(i);
    if (active.empty() || s_.poisoned) return;
    if (!sample_round(active)) return;
    const double per_kernel = seconds_since(sampling_start) / static_cast<double>(active.size());
    for (std::size_t i : active) {
      Kernel& k = kernels_[i];
      if (k.done) continue;
      const StopDecision decision = evaluate(k.criteria, per_kernel);
      if (decision == StopDecision::keep_going) continue;
      k.done = true;
      if (decision == StopDecision::pruned) {
        k.result.status = MeasurementStatus::pruned;
        k.result.message = "clearly slower than the best so far after " + std::to_string(k.samples.size()) + " samples";
      }
    }
  }
}

// One batch of kBatch samples of every active kernel: restore outputs → flush L2 → launch. Kernel
// times come from CUPTI records (in launch order, one per launch) or, without CUPTI, from events.
// A batch taken while the clock sagged (throttling) is dropped rather than averaged in. False when
// the session was poisoned.
bool MeasureRun::sample_round(const std::vector<std::size_t>& active) {
  const unsigned mhz = s_.clock ? s_.clock->current_mhz().value_or(0) : 0;  // 0: unknown
  std::vector<std::pair<std::size_t, float>> event_times;                   // kernel index, ms
  for (int sample = 0; sample < kBatch && !s_.poisoned; ++sample) {
    for (std::size_t i : active) {
      Kernel& k = kernels_[i];
      if (k.done) continue;
      if (auto ok = s_.restore_outputs(); !ok) {
        fail(k, MeasurementStatus::launch_error, ok.error().message);
        continue;
      }
      if (options_.flush_l2)
        if (auto ok = s_.flush_l2(); !ok) {
          fail(k, MeasurementStatus::launch_error, ok.error().message);
          continue;
        }
      d_.cuEventRecord(s_.start_event.get(), s_.stream.get());
      CUresult rc = s_.launch(k.function, k.params, k.job->launch);
      d_.cuEventRecord(s_.end_event.get(), s_.stream.get());
      if (rc == CUDA_SUCCESS) rc = s_.wait(options_.kernel_timeout_seconds);
      if (rc != CUDA_SUCCESS) {
        launch_failed(k, rc, "sampling");
        continue;
      }
      float ms = 0;
      d_.cuEventElapsedTime(&ms, s_.start_event.get(), s_.end_event.get());
      event_times.emplace_back(i, ms);
    }
  }
  if (s_.poisoned) return false;

  std::vector<double> times(event_times.size());
  bool cupti_used = false;
  if (s_.cupti) {
    auto records = s_.cupti->collect();  // always drained, so records never pile up
    if (!options_.use_cupti) records = make_error(Errc::unsupported, "events requested");
    if (records && records->size() == event_times.size()) {
      for (std::size_t r = 0; r < records->size(); ++r) times[r] = (*records)[r].duration_ns();
      cupti_used = true;
    }
  }
  if (!cupti_used)
    for (std::size_t r = 0; r < event_times.size(); ++r) times[r] = 1e6 * static_cast<double>(event_times[r].second);

  const unsigned mhz_after = s_.clock ? s_.clock->current_mhz().value_or(0) : 0;
  const bool throttled = s_.clock && mhz && mhz_after && std::min(mhz, mhz_after) < s_.clock->max_mhz() * 8 / 10;
  for (std::size_t r = 0; r < event_times.size(); ++r) {
    Kernel& k = kernels_[event_times[r].first];
    k.result.timer = cupti_used ? "cupti" : "events";
    if (mhz_after) k.result.sm_clock_mhz = mhz_after;
    if (throttled && k.samples.size() + k.result.dropped_samples < options_.rule.max_samples * 2) {
      ++k.result.dropped_samples;
      continue;
    }
    k.samples.push_back(times[r]);
    for (auto& c : k.criteria) c->add_measurement(times[r]);
  }
  return true;
}

std::vector<KernelMeasurement> MeasureRun::summarise() {
  std::vector<KernelMeasurement> out;
  out.reserve(kernels_.size());
  for (auto& k : kernels_) {
    if (k.result.status == MeasurementStatus::ok || k.result.status == MeasurementStatus::pruned) k.result.stats = summarize(k.samples);
    if (k.result.status == MeasurementStatus::ok && k.samples.empty() && !k.done) {
      k.result.status = MeasurementStatus::crash;
      k.result.message = "the GPU context was lost before this configuration was measured";
    }
    k.result.wall_seconds = k.started == Clock::time_point{} ? 0.0 : seconds_since(k.started);
    out.push_back(std::move(k.result));
  }
  return out;
}

}  // namespace ktune::runner
