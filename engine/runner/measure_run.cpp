#include "engine/runner/measure_run.hpp"

#include <algorithm>
#include <cstdio>
#include <span>
#include <utility>

#include "engine/cuda/driver_check.hpp"
#include "engine/runner/host_data.hpp"
#include "engine/runner/sample_log.hpp"
#include "engine/runner/tensor_map_encode.hpp"

namespace ktune::runner {

namespace {

std::string format_tolerance(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Samples are taken in rounds queued without a synchronisation between them (one wait per
// round, so host round trips do not idle the GPU between samples): the first round takes
// kFirstRoundSamples of each kernel (enough to race), later rounds as many as fit in
// kRoundSeconds (at most kMaxRoundSamples each). The SM clock is read around a round, CUPTI
// flushed once per round, and the criteria asked after each.
constexpr std::size_t kFirstRoundSamples = 5;
constexpr std::size_t kMaxRoundSamples = 32;
constexpr double kRoundSeconds = 0.0005;
// A GPU idle for this long may have lowered its clocks: ramp them again before measuring
// (at most kIdleRampSeconds; it returns as soon as the clock is up).
constexpr double kIdleBeforeRampSeconds = 0.05;
constexpr double kIdleRampSeconds = 0.05;
// Events time a launch, not only the kernel (the best is CUPTI kernel time): the slack keeps
// launch latency from making a kernel of a few microseconds look hopeless.
constexpr double kEventSlackNs = 50e3;

}  // namespace

MeasureRun::MeasureRun(GpuSession::State& session, const std::vector<KernelJob>& jobs, const MeasureOptions& options)
    : s_(session), d_(*session.api), options_(options), kernels_(jobs.size()), sample_log_(SampleLog::from_environment()) {
  for (std::size_t i = 0; i < jobs.size(); ++i) kernels_[i].job = &jobs[i];
}

std::vector<KernelMeasurement> MeasureRun::run() {
  // Charged to the first configuration's warm-up: it is time spent so that it is measured right.
  const auto ramp_start = Clock::now();
  if (seconds_since(s_.last_busy) > kIdleBeforeRampSeconds) s_.ramp_clocks(kIdleRampSeconds);
  const double ramp_seconds = seconds_since(ramp_start);
  if (!kernels_.empty()) kernels_.front().result.phases.warm_up += ramp_seconds;
  for (auto& k : kernels_) {
    if (s_.poisoned) break;
    k.started = Clock::now();
    auto phase = [&](double& seconds, auto&& step) {
      if (k.done) return;
      const auto start = Clock::now();
      step();
      seconds += seconds_since(start);
    };
    phase(k.result.phases.load, [&] { prepare(k); });
    phase(k.result.phases.first_run, [&] { first_run(k); });
    phase(k.result.phases.verify, [&] { verify(k); });
    if (options_.run_once) k.done = true;  // a reference run: its outputs were what it was for
    phase(k.result.phases.warm_up, [&] { warm_up(k); });
  }
  if (s_.cupti) (void)s_.cupti->collect();  // discard the records of first runs and warm-ups
  sample_rounds();
  s_.last_busy = Clock::now();
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

// Loads the cubin, reads each kernel's attributes, checks each launch: anything wrong is a status, not a launch.
void MeasureRun::prepare(Kernel& k) {
  const KernelJob& job = *k.job;
  if (job.own_args) {
    if (!job.stage_lowered_names.empty())
      return fail(k, MeasurementStatus::invalid_config, "a job on its own arguments is one kernel");
    for (const auto& slot : *job.own_args)
      if (slot.is_buffer && slot.index >= s_.problem.buffers.size())
        return fail(k, MeasurementStatus::invalid_config, "an argument names a buffer the problem does not have");
  } else if (job.stage_lowered_names.size() != s_.problem.stage_args.size() ||
             job.launch.stage_shapes.size() != s_.problem.stage_args.size()) {
    return fail(k, MeasurementStatus::invalid_config,
                "the job has " + std::to_string(job.stage_lowered_names.size() + 1) + " kernels, the problem's pipeline " +
                    std::to_string(s_.problem.stage_args.size() + 1));
  }
  // TMA descriptors depend on the configuration (box, swizzle) and the buffers' addresses: encoded
  // once here, before any launch; one the driver refuses is this configuration's mistake.
  for (std::size_t t = 0; t < job.launch.tensor_maps.size(); ++t) {
    const TensorMapPlan& plan = job.launch.tensor_maps[t];
    if (plan.buffer >= s_.problem.buffers.size())
      return fail(k, MeasurementStatus::invalid_config, "a tensor map names a buffer the problem does not have");
    const BufferPlan& buffer = s_.problem.buffers[plan.buffer];
    auto map = encode_tensor_map(d_, plan, buffer.type, s_.buffers[plan.buffer].get());
    if (!map)
      return fail(k, MeasurementStatus::invalid_config, "tensor map " + std::to_string(t) + " of buffer " + buffer.name + ": " +
                                                        map.error().message);
    k.tensor_maps.push_back(*map);
  }
  // A job on the problem's arguments runs the problem's setup kernels (a reference kernel, on
  // its own arguments and from its own program, runs none).
  if (!job.setup_lowered_names.empty() &&
      (job.own_args || job.setup_lowered_names.size() != s_.problem.setup_args.size() ||
       job.launch.setup_shapes.size() != s_.problem.setup_args.size()))
    return fail(k, MeasurementStatus::invalid_config,
                "the job has " + std::to_string(job.setup_lowered_names.size()) + " setup kernels, the problem " +
                    std::to_string(job.own_args ? 0 : s_.problem.setup_args.size()));
  CUlibrary library = nullptr;
  if (CUresult rc = d_.cuLibraryLoadData(&library, job.cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0); rc != CUDA_SUCCESS)
    return fail(k, MeasurementStatus::launch_error, "cannot load the cubin: " + d_.error_text(rc));
  k.library = cuda::LoadedLibrary(&d_, library);
  k.stages.resize(1 + job.stage_lowered_names.size());
  k.stages[0].shape = &job.launch.shape;
  if (!prepare_stage(k, k.stages[0], job.lowered_name, job.own_args ? *job.own_args : s_.problem.args)) return;
  for (std::size_t i = 1; i < k.stages.size(); ++i) {
    k.stages[i].shape = &job.launch.stage_shapes[i - 1];
    if (!prepare_stage(k, k.stages[i], job.stage_lowered_names[i - 1], s_.problem.stage_args[i - 1])) return;
  }
  k.setup.resize(job.setup_lowered_names.size());
  for (std::size_t i = 0; i < k.setup.size(); ++i) {
    k.setup[i].shape = &job.launch.setup_shapes[i];
    if (!prepare_stage(k, k.setup[i], job.setup_lowered_names[i], s_.problem.setup_args[i], i)) return;
  }

  // Constant memory is per loaded module and kernels cannot write it: filled once here, it holds
  // the same data at every launch of this configuration.
  for (std::size_t c = 0; c < s_.problem.constants.size(); ++c) {
    const ConstantPlan& constant = s_.problem.constants[c];
    CUdeviceptr symbol = 0;
    std::size_t symbol_bytes = 0;
    if (CUresult rc = d_.cuLibraryGetGlobal(&symbol, &symbol_bytes, library, constant.symbol.c_str()); rc != CUDA_SUCCESS)
      return fail(k, MeasurementStatus::launch_error,
                  "no __constant__ symbol named " + constant.symbol + " in the cubin (" + d_.error_text(rc) +
                      "); a symbol inside a namespace is found by its mangled name");
    if (constant.bytes > symbol_bytes)
      return fail(k, MeasurementStatus::launch_error,
                  "__constant__ " + constant.symbol + " holds " + std::to_string(symbol_bytes) + " bytes, its data is " +
                      std::to_string(constant.bytes) + " bytes");
    if (constant.bytes == 0) continue;
    if (CUresult rc = d_.cuMemcpyHtoD(symbol, s_.constant_data[c].data(), constant.bytes); rc != CUDA_SUCCESS)
      return launch_failed(k, rc, "filling constant memory");
  }
  run_setup(k);
}

// Setup kernels, once the constants are filled and before anything is compared or timed; the
// buffers they write keep their contents (only outputs are restored before a run).
void MeasureRun::run_setup(Kernel& k) {
  if (k.setup.empty()) return;
  const std::size_t index = static_cast<std::size_t>(&k - kernels_.data());
  auto queued = queue_setup(index);
  if (!queued) return;
  if (CUresult rc = s_.wait(options_.kernel_timeout_seconds); rc != CUDA_SUCCESS) {
    setup_owner_ = SIZE_MAX;
    return launch_failed(k, rc, "setup kernels");
  }
}

std::optional<std::size_t> MeasureRun::queue_setup(std::size_t kernel_index) {
  Kernel& k = kernels_[kernel_index];
  if (k.setup.empty() || setup_owner_ == kernel_index) return 0;
  setup_owner_ = SIZE_MAX;
  for (std::size_t i = 0; i < k.setup.size(); ++i)
    if (CUresult rc = s_.launch(k.setup[i].function, k.setup[i].params, *k.setup[i].shape); rc != CUDA_SUCCESS) {
      const std::string when = "setup[" + std::to_string(i) + "] (" + k.job->setup_lowered_names[i] + ") launch";
      launch_failed(k, rc, when.c_str());
      return std::nullopt;
    }
  setup_owner_ = kernel_index;
  return k.setup.size();
}

// One kernel of k: found in k's library, its attributes read (a pipeline reports the largest of
// its kernels' resources), its launch checked, its parameters pointed at the problem's buffers
// and the job's scalars. False (and k failed) when anything is wrong.
bool MeasureRun::prepare_stage(Kernel& k, Stage& stage, const std::string& lowered_name, const std::vector<ArgSlot>& args,
                               std::optional<std::size_t> setup_index) {
  const KernelJob& job = *k.job;
  CUkernel kernel = nullptr;
  if (CUresult rc = d_.cuLibraryGetKernel(&kernel, k.library.get(), lowered_name.c_str()); rc != CUDA_SUCCESS)
    return fail(k, MeasurementStatus::launch_error, "no kernel named " + lowered_name + " in the cubin: " + d_.error_text(rc)), false;
  if (CUresult rc = d_.cuKernelGetFunction(&stage.function, kernel); rc != CUDA_SUCCESS)
    return fail(k, MeasurementStatus::launch_error, "cuKernelGetFunction: " + d_.error_text(rc)), false;
  auto attr = [&](CUfunction_attribute a) {
    int v = 0;
    d_.cuFuncGetAttribute(&v, a, stage.function);
    return v;
  };
  KernelAttributes attributes;
  attributes.registers_per_thread = attr(CU_FUNC_ATTRIBUTE_NUM_REGS);
  attributes.static_shared_bytes = attr(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
  attributes.local_bytes_per_thread = attr(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES);
  attributes.max_threads_per_block = attr(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  if (!setup_index) {  // the resources reported are the timed kernels'
    k.result.registers = std::max(k.result.registers, attributes.registers_per_thread);
    k.result.static_shared_bytes = std::max(k.result.static_shared_bytes, attributes.static_shared_bytes);
    k.result.local_bytes = std::max(k.result.local_bytes, attributes.local_bytes_per_thread);
  }
  // A pipeline's message names the kernel that cannot launch, a setup kernel's names it as such.
  const std::string which = setup_index ? "setup[" + std::to_string(*setup_index) + "] (" + lowered_name + "): "
                            : job.stage_lowered_names.empty() ? ""
                                                              : lowered_name + ": ";

  const LaunchShape& shape = *stage.shape;
  if (auto ok = check_launch(s_.limits, attributes, shape); !ok)
    return fail(k, MeasurementStatus::invalid_config, which + ok.error().message), false;
  if (needs_shared_memory_opt_in(s_.limits, attributes, shape)) {
    if (CUresult rc = d_.cuFuncSetAttribute(stage.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                            static_cast<int>(shape.dynamic_shared_bytes));
        rc != CUDA_SUCCESS)
      return fail(k, MeasurementStatus::invalid_config, which + "cannot allow " + std::to_string(shape.dynamic_shared_bytes) +
                                                        " bytes of dynamic shared memory: " + d_.error_text(rc)),
             false;
  }
  int blocks_per_sm = 0;
  const int threads = static_cast<int>(shape.block[0] * shape.block[1] * shape.block[2]);
  if (CUresult rc = d_.cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks_per_sm, stage.function, threads,
                                                                    static_cast<std::size_t>(shape.dynamic_shared_bytes));
      rc != CUDA_SUCCESS || blocks_per_sm == 0)
    return fail(k, MeasurementStatus::invalid_config, which + "not even one block of " + std::to_string(threads) +
                                                      " threads fits on an SM (registers or shared memory)"),
           false;
  if (shape.has_cluster()) {
    if (auto placeable = s_.check_cluster(stage.function, shape); !placeable)
      return fail(k, MeasurementStatus::invalid_config, which + placeable.error().message), false;
  }

  // Kernel parameters: pointers to each argument's value, in kernel order.
  std::size_t buffers = 0;
  for (const auto& slot : args) buffers += slot.is_buffer ? 1 : 0;
  const std::size_t tensor_maps = static_cast<std::size_t>(std::count_if(args.begin(), args.end(), [](const ArgSlot& a) { return a.is_tensor_map; }));
  stage.pointer_storage.reserve(buffers);
  stage.scalar_bytes.reserve(args.size() - buffers - tensor_maps);
  for (const auto& slot : args) {
    if (slot.is_buffer) {
      stage.pointer_storage.push_back(s_.buffers[slot.index].get());
      stage.params.push_back(&stage.pointer_storage.back());
    } else if (slot.is_tensor_map) {
      if (slot.index >= k.tensor_maps.size()) return fail(k, MeasurementStatus::invalid_config, "tensor map argument missing"), false;
      stage.params.push_back(&k.tensor_maps[slot.index]);
    } else {
      if (slot.index >= job.launch.scalars.size()) return fail(k, MeasurementStatus::invalid_config, "scalar argument missing"), false;
      stage.scalar_bytes.push_back(job.launch.scalars[slot.index].bytes());
      stage.params.push_back(stage.scalar_bytes.back().data());
    }
  }
  return true;
}

CUresult MeasureRun::launch_stages(Kernel& k, cuda::Event* events) {
  for (std::size_t i = 0; i < k.stages.size(); ++i) {
    if (events) d_.cuEventRecord(events[i].get(), s_.stream.get());
    if (CUresult rc = s_.launch(k.stages[i].function, k.stages[i].params, *k.stages[i].shape); rc != CUDA_SUCCESS) return rc;
  }
  if (events) d_.cuEventRecord(events[k.stages.size()].get(), s_.stream.get());
  return CUDA_SUCCESS;
}

// A launch from the restored outputs, timed with events; nullopt when it failed (k is then done).
std::optional<float> MeasureRun::timed_launch(Kernel& k, const char* when) {
  if (auto ok = s_.restore_outputs(); !ok) {
    fail(k, MeasurementStatus::launch_error, ok.error().message);
    return std::nullopt;
  }
  d_.cuEventRecord(s_.start_event.get(), s_.stream.get());
  if (CUresult rc = launch_stages(k); rc != CUDA_SUCCESS) {
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
  k.result.stop = StopDecision::pruned;
  fail(k, MeasurementStatus::pruned, "two runs were each far slower than the best so far");
}

// Keeps the outputs of the first run as the reference, or compares them with it: on the GPU
// where the reference is kept there (device_compare/), else read back and compared on the host.
// An output with an answer file is compared with the file, always (the reference run's too).
void MeasureRun::verify(Kernel& k) {
  if (options_.verify == VerifyMode::none) return;
  if (options_.verify == VerifyMode::set_reference) return set_reference(k);
  if (!s_.has_reference && !s_.has_device_reference && !reference_from_answers())
    return fail(k, MeasurementStatus::launch_error, "no reference outputs to compare with (the reference was not run)");
  if (s_.has_device_reference) {
    if (verify_on_device(k)) return;
    if (!s_.has_reference && !host_reference_from_device())
      return fail(k, MeasurementStatus::launch_error, "the reference outputs could not be read back from the GPU");
  }
  auto outputs = read_outputs(k);
  if (k.done) return;
  const auto& buffers = s_.problem.buffers;
  std::size_t o = 0;
  for (std::size_t b = 0; b < buffers.size(); ++b) {
    const BufferPlan& plan = buffers[b];
    if (!plan.output) continue;
    if (!record_comparison(k, b, compare_buffers(plan.type, s_.reference[o], outputs[o], plan.rtol, plan.atol))) return;
    ++o;
  }
}

// The outputs of this run become the reference of the outputs without an answer file; those with
// one are checked against it first, so a reference that disagrees with a given answer fails.
void MeasureRun::set_reference(Kernel& k) {
  s_.reference.clear();
  s_.has_reference = false;
  s_.device_reference.clear();
  s_.has_device_reference = false;
  const auto& buffers = s_.problem.buffers;
  std::vector<std::span<const std::byte>> outputs;
  bool any_answer = false;
  for (std::size_t b = 0; b < buffers.size(); ++b) {
    if (!buffers[b].output) continue;
    any_answer = any_answer || buffers[b].answer.has_value();
    s_.reference_labels[b] = buffers[b].answer ? buffers[b].answer->path : options_.reference_label;
  }
  if (any_answer) {
    outputs = read_outputs(k);
    if (k.done) return;
    std::size_t o = 0;
    for (std::size_t b = 0; b < buffers.size(); ++b) {
      const BufferPlan& plan = buffers[b];
      if (!plan.output) continue;
      if (plan.answer && !record_comparison(k, b, compare_buffers(plan.type, s_.answers[b], outputs[o], plan.rtol, plan.atol)))
        return;
      ++o;
    }
  }
  // Kept on the GPU, the reference never has to cross to the host (64 MiB of read-back and a
  // host copy cost ~40 ms on the H200); on the host only where it cannot stay on the GPU.
  keep_device_reference();
  if (s_.has_device_reference) return;
  if (outputs.empty()) outputs = read_outputs(k);
  if (k.done) return;
  std::size_t o = 0;
  for (std::size_t b = 0; b < buffers.size(); ++b) {
    if (!buffers[b].output) continue;
    if (buffers[b].answer) s_.reference.push_back(s_.answers[b]);
    else s_.reference.emplace_back(outputs[o].begin(), outputs[o].end());
    ++o;
  }
  s_.has_reference = true;
}

// Where every output has an answer file, no reference run is needed: the files are the reference.
bool MeasureRun::reference_from_answers() {
  const auto& buffers = s_.problem.buffers;
  for (const auto& plan : buffers)
    if (plan.output && !plan.answer) return false;
  for (std::size_t b = 0; b < buffers.size(); ++b)
    if (buffers[b].output) s_.reference_labels[b] = buffers[b].answer->path;
  keep_device_reference();
  if (s_.has_device_reference) return true;
  s_.reference.clear();
  for (std::size_t b = 0; b < buffers.size(); ++b)
    if (buffers[b].output) s_.reference.push_back(s_.answers[b]);
  s_.has_reference = true;
  return true;
}

// This run's outputs, read back into the staging buffers (in output order); empty and k failed
// when the read failed.
std::vector<std::span<const std::byte>> MeasureRun::read_outputs(Kernel& k) {
  const auto& buffers = s_.problem.buffers;
  std::vector<std::span<const std::byte>> outputs;
  for (std::size_t b = 0; b < buffers.size(); ++b) {
    if (!buffers[b].output) continue;
    std::span<std::byte> staging = s_.staging[b].bytes();
    outputs.push_back(staging);
    if (CUresult rc = d_.cuMemcpyDtoH(staging.data(), s_.buffers[b].get(), buffers[b].bytes); rc != CUDA_SUCCESS) {
      launch_failed(k, rc, "reading the outputs");
      return {};
    }
  }
  return outputs;
}

// Copies the reference outputs on the GPU (an output with an answer file: the file's data), where
// there is room for them and the comparison kernel loads; otherwise verification stays on the host.
void MeasureRun::keep_device_reference() {
  s_.device_reference.clear();
  s_.has_device_reference = false;
  if (!s_.comparer_tried) {
    s_.comparer_tried = true;
    if (auto comparer = DeviceComparer::load(d_, s_.device.multiprocessors)) s_.comparer = std::move(*comparer);
  }
  if (!s_.comparer) return;
  std::uint64_t needed = 0;
  for (const auto& plan : s_.problem.buffers)
    if (plan.output) needed += plan.bytes;
  std::size_t free_bytes = 0, total_bytes = 0;
  if (d_.cuMemGetInfo(&free_bytes, &total_bytes) != CUDA_SUCCESS || needed + (256u << 20) > free_bytes) return;
  std::vector<cuda::DeviceBuffer> copies;
  for (std::size_t b = 0; b < s_.problem.buffers.size(); ++b) {
    const BufferPlan& plan = s_.problem.buffers[b];
    if (!plan.output) {
      copies.emplace_back();
      continue;
    }
    auto copy = cuda::DeviceBuffer::allocate(d_, std::max<std::uint64_t>(plan.bytes, 256));
    if (!copy) return;
    if (plan.bytes && plan.answer) {
      if (d_.cuMemcpyHtoD(copy->get(), s_.answers[b].data(), plan.bytes) != CUDA_SUCCESS) return;
    } else if (plan.bytes && d_.cuMemcpyDtoDAsync(copy->get(), s_.buffers[b].get(), plan.bytes, s_.stream.get()) != CUDA_SUCCESS) {
      return;
    }
    copies.push_back(std::move(*copy));
  }
  if (s_.wait(options_.kernel_timeout_seconds) != CUDA_SUCCESS) return;
  s_.device_reference = std::move(copies);
  s_.has_device_reference = true;
}

// The host comparison's reference, from the copy on the GPU (when the GPU comparison failed).
bool MeasureRun::host_reference_from_device() {
  std::vector<std::vector<std::byte>> reference;
  for (std::size_t b = 0; b < s_.problem.buffers.size(); ++b) {
    const BufferPlan& plan = s_.problem.buffers[b];
    if (!plan.output) continue;
    std::vector<std::byte> host(plan.bytes);
    if (plan.bytes && d_.cuMemcpyDtoH(host.data(), s_.device_reference[b].get(), plan.bytes) != CUDA_SUCCESS) return false;
    reference.push_back(std::move(host));
  }
  s_.reference = std::move(reference);
  s_.has_reference = true;
  return true;
}

// False when the comparison itself could not run (then the host compares); a sticky error fails
// the configuration and poisons the session like any other.
bool MeasureRun::verify_on_device(Kernel& k) {
  for (std::size_t b = 0; b < s_.problem.buffers.size(); ++b) {
    const BufferPlan& plan = s_.problem.buffers[b];
    if (!plan.output) continue;
    const std::uint64_t count = plan.bytes / element_size(plan.type);
    const CUdeviceptr expected = s_.device_reference[b].get(), got = s_.buffers[b].get();
    if (!s_.comparer->enqueue(s_.stream.get(), plan.type, expected, got, count, plan.rtol, plan.atol)) return false;
    if (CUresult rc = s_.wait(options_.kernel_timeout_seconds); rc != CUDA_SUCCESS) {
      if (!cuda::is_sticky(rc) && rc != CUDA_ERROR_LAUNCH_TIMEOUT) return false;
      launch_failed(k, rc, "comparing the outputs");
      return true;
    }
    auto comparison = s_.comparer->read(plan.type, expected, got, count);
    if (!comparison) return false;
    if (!record_comparison(k, b, *comparison)) return true;
  }
  k.result.verified_on_device = true;
  return true;
}

// Records output `buffer`'s comparison; false (and the configuration failed) on a mismatch. The
// message names the reference (a file, a configuration, a reference kernel) and the tolerances.
bool MeasureRun::record_comparison(Kernel& k, std::size_t buffer, const Comparison& c) {
  const BufferPlan& plan = s_.problem.buffers[buffer];
  k.result.max_abs_error = std::max(k.result.max_abs_error, c.max_abs_error);
  k.result.max_rel_error = std::max(k.result.max_rel_error, c.max_rel_error);
  if (c.ok()) return true;
  const std::string& label = s_.reference_labels[buffer];
  fail(k, MeasurementStatus::wrong_result,
       plan.name + ": " + std::to_string(c.mismatches) + " of " + std::to_string(c.compared) +
           " elements differ from the reference" + (label.empty() ? "" : " (" + label + ")") + "; first at [" +
           std::to_string(c.first_mismatch) + "]: " + std::to_string(c.got_at_first) + " instead of " +
           std::to_string(c.expected_at_first) + " (rtol " + format_tolerance(plan.rtol) + ", atol " +
           format_tolerance(plan.atol) + ")");
  return false;
}

// Instruction caches and clocks, after the first run paid for lazy loading: at least one more
// launch and warmup_seconds (so a kernel of milliseconds is not run twice for nothing, and one
// of microseconds runs many times).
void MeasureRun::warm_up(Kernel& k) {
  const auto warm_start = Clock::now();
  int launches = 0;
  while (launches < 1 || seconds_since(warm_start) < options_.warmup_seconds) {
    CUresult rc = launch_stages(k);
    if (rc == CUDA_SUCCESS) rc = s_.wait(options_.kernel_timeout_seconds);
    if (rc != CUDA_SUCCESS) return launch_failed(k, rc, "warm-up");
    if (++launches >= 1000) break;
  }
}

// Round robin over the kernels still going (A B C A B C ...), so a drift in clocks cannot favour
// one of them, until each one's criteria are satisfied. Each kernel is charged its share of every
// round it takes part in; the budget counts sampling only, wall_seconds (reported) everything.
void MeasureRun::sample_rounds() {
  for (auto& k : kernels_)
    if (!k.done) k.criteria = make_criteria(options_.rule, options_.best_median_ns);
  std::size_t per_kernel = kFirstRoundSamples;
  for (;;) {
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < kernels_.size(); ++i)
      if (!kernels_[i].done) active.push_back(i);
    if (active.empty() || s_.poisoned) return;
    const auto round_start = Clock::now();
    const std::size_t launches = sample_round(active, per_kernel);
    if (s_.poisoned) return;
    const double round_seconds = seconds_since(round_start);
    const double share = round_seconds / static_cast<double>(active.size());
    for (std::size_t i : active) {
      Kernel& k = kernels_[i];
      k.result.phases.sampling += share;
      if (k.done) continue;
      const StopDecision decision = evaluate(k.criteria, k.result.phases.sampling);
      if (decision == StopDecision::keep_going) continue;
      k.done = true;
      k.result.stop = decision;
      if (decision == StopDecision::pruned) {
        k.result.status = MeasurementStatus::pruned;
        k.result.message = "clearly slower than the best so far after " + std::to_string(k.samples.size()) + " samples";
      }
    }
    // The next round: as many samples as fit in kRoundSeconds at this round's cost per launch.
    // The round's fixed costs (clock reading, CUPTI flush: ~0.5 ms on the H200) are left out:
    // counted per launch they shrank rounds to one sample each, each paying them again.
    if (launches > 0) {
      const double per_launch = std::max(round_seconds - round_overhead_seconds_, 1e-6) / static_cast<double>(launches);
      const double fit = kRoundSeconds / (per_launch * static_cast<double>(active.size()));
      per_kernel = std::clamp<std::size_t>(static_cast<std::size_t>(fit), 1, kMaxRoundSamples);
    }
  }
}

// One round of up to `per_kernel` samples of every active kernel, queued without waiting:
// restore outputs → flush L2 → event → launch → event, then one wait (a pipeline: an event before
// each of its kernels). Kernel times come from CUPTI records (in launch order, one per kernel
// launch) or, without CUPTI, from the events. A round taken while the clock sagged (throttling)
// is dropped rather than averaged in. Returns the number of launches queued.
std::size_t MeasureRun::sample_round(const std::vector<std::size_t>& active, std::size_t per_kernel) {
  round_overhead_seconds_ = 0;
  auto overhead = [this](auto&& step) {
    const auto start = Clock::now();
    step();
    round_overhead_seconds_ += seconds_since(start);
  };
  // The clock before this round is the one read after the last (one reading per round).
  if (!last_mhz_ && s_.clock) overhead([&] { last_mhz_ = s_.clock->current_mhz().value_or(0); });
  const unsigned mhz = last_mhz_;  // 0: unknown
  // Each launch of a job records an event before each of its kernels and one after the last.
  std::size_t events_needed = 0;
  for (std::size_t i : active) events_needed += per_kernel * (kernels_[i].stages.size() + 1);
  if (auto ok = s_.ensure_sample_events(events_needed); !ok) {
    for (std::size_t i : active) fail(kernels_[i], MeasurementStatus::launch_error, ok.error().message);
    return 0;
  }
  std::vector<std::size_t> launched;      // kernel index of each launch, in launch order
  std::vector<std::size_t> first_event;   // of each launch: its first event in sample_events
  launched.reserve(per_kernel * active.size());
  first_event.reserve(per_kernel * active.size());
  std::vector<std::size_t> setup_before;  // of each launch: setup kernels queued since the launch before
  std::size_t next_event = 0, kernel_launches = 0, pending_setup = 0;
  for (std::size_t sample = 0; sample < per_kernel; ++sample) {
    for (std::size_t i : active) {
      Kernel& k = kernels_[i];
      if (k.done) continue;
      if (k.samples.size() + sample >= options_.rule.max_samples) continue;
      // Another job's setup ran since this one's: its own again, untimed (outside its events).
      auto setup = queue_setup(i);
      if (!setup) {
        if (s_.poisoned) return launched.size();
        continue;
      }
      kernel_launches += *setup;
      pending_setup += *setup;
      if (auto ok = s_.restore_outputs(); !ok) {
        fail(k, MeasurementStatus::launch_error, ok.error().message);
        continue;
      }
      if (options_.flush_l2)
        if (auto ok = s_.flush_l2(); !ok) {
          fail(k, MeasurementStatus::launch_error, ok.error().message);
          continue;
        }
      if (CUresult rc = launch_stages(k, &s_.sample_events[next_event]); rc != CUDA_SUCCESS) {
        launch_failed(k, rc, "sampling");
        if (s_.poisoned) return launched.size();
        continue;
      }
      launched.push_back(i);
      setup_before.push_back(std::exchange(pending_setup, 0));
      first_event.push_back(next_event);
      next_event += k.stages.size() + 1;
      kernel_launches += k.stages.size();
    }
  }
  if (launched.empty()) return 0;
  // Every kernel here already finished its first run and warm-up, so the deadline scales with
  // the launches queued; a hang still ends in the same kernel timeout per launch.
  const double timeout = options_.kernel_timeout_seconds * static_cast<double>(kernel_launches);
  if (CUresult rc = s_.wait(timeout); rc != CUDA_SUCCESS) {
    // Blame the first launch that did not complete (the ones before it finished); the round's
    // samples are dropped, and the other kernels sample again in the next round.
    std::size_t culprit = launched.front();
    for (std::size_t j = 0; j < launched.size(); ++j)
      if (d_.cuEventQuery(s_.sample_events[first_event[j] + kernels_[launched[j]].stages.size()].get()) != CUDA_SUCCESS) {
        culprit = launched[j];
        break;
      }
    launch_failed(kernels_[culprit], rc, "sampling");
    return launched.size();
  }

  // Per launch: the job's time (a pipeline: its first kernel's start to its last one's end), and
  // for a pipeline each kernel's own time.
  std::vector<double> times(launched.size());
  std::vector<std::vector<double>> stage_times(launched.size());
  bool cupti_used = false;
  if (s_.cupti) {
    overhead([&] {
      auto records = s_.cupti->collect();  // always drained, so records never pile up
      if (!options_.use_cupti) records = make_error(Errc::unsupported, "events requested");
      if (records && records->size() == kernel_launches) {
        std::size_t r = 0;
        for (std::size_t j = 0; j < launched.size(); ++j) {
          const std::size_t stages = kernels_[launched[j]].stages.size();
          r += setup_before[j];  // setup kernels are recorded too, and not timed
          times[j] = static_cast<double>((*records)[r + stages - 1].end_ns - (*records)[r].start_ns);
          if (stages > 1)
            for (std::size_t i = 0; i < stages; ++i) stage_times[j].push_back((*records)[r + i].duration_ns());
          r += stages;
        }
        cupti_used = true;
      }
    });
  }
  if (!cupti_used)
    for (std::size_t j = 0; j < launched.size(); ++j) {
      const std::size_t stages = kernels_[launched[j]].stages.size();
      auto elapsed_ns = [&](std::size_t from, std::size_t to) {
        float ms = 0;
        d_.cuEventElapsedTime(&ms, s_.sample_events[first_event[j] + from].get(), s_.sample_events[first_event[j] + to].get());
        return 1e6 * static_cast<double>(ms);
      };
      times[j] = elapsed_ns(0, stages);
      if (stages > 1)
        for (std::size_t i = 0; i < stages; ++i) stage_times[j].push_back(elapsed_ns(i, i + 1));
    }

  unsigned mhz_after = 0;
  if (s_.clock) overhead([&] { mhz_after = s_.clock->current_mhz().value_or(0); });
  last_mhz_ = mhz_after;
  const bool throttled = s_.clock && mhz && mhz_after && std::min(mhz, mhz_after) < s_.clock->max_mhz() * 8 / 10;
  for (std::size_t j = 0; j < launched.size(); ++j) {
    Kernel& k = kernels_[launched[j]];
    k.result.timer = cupti_used ? "cupti" : "events";
    if (mhz_after) k.result.sm_clock_mhz = mhz_after;
    if (throttled && k.samples.size() + k.result.dropped_samples < options_.rule.max_samples * 2) {
      ++k.result.dropped_samples;
      continue;
    }
    k.samples.push_back(times[j]);
    for (std::size_t i = 0; i < stage_times[j].size(); ++i) k.stages[i].samples.push_back(stage_times[j][i]);
    for (auto& c : k.criteria) c->add_measurement(times[j]);
  }
  return launched.size();
}

std::vector<KernelMeasurement> MeasureRun::summarise() {
  std::vector<KernelMeasurement> out;
  out.reserve(kernels_.size());
  for (auto& k : kernels_) {
    if (k.result.status == MeasurementStatus::ok || k.result.status == MeasurementStatus::pruned) {
      k.result.stats = summarize(k.samples);
      if (k.stages.size() > 1 && !k.stages.front().samples.empty())
        for (const Stage& stage : k.stages) k.result.stage_stats.push_back(summarize(stage.samples));
    }
    if (k.result.status == MeasurementStatus::ok && k.samples.empty() && !k.done) {
      k.result.status = MeasurementStatus::crash;
      k.result.message = "the GPU context was lost before this configuration was measured";
    }
    k.result.wall_seconds = k.started == Clock::time_point{} ? 0.0 : seconds_since(k.started);
    if (sample_log_) sample_log_->append(k.job->label, k.result, k.samples);
    out.push_back(std::move(k.result));
  }
  return out;
}

}  // namespace ktune::runner
