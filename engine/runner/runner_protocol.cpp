#include "engine/runner/runner_protocol.hpp"

#include "workers/process/codec.hpp"

namespace ktune::runner {

namespace {

using process::Reader;
using process::Writer;

// Smallest encodings of the repeated items: a count the remaining bytes cannot hold is refused
// before anything is reserved for it.
constexpr std::size_t kMinInitBytes = 1 + 5 * 8 + 2 * 8 + (4 + 1 + 4) + 8 + 8;
constexpr std::size_t kMinBufferBytes = 4 + 1 + 8 + 8 + kMinInitBytes + 1 + 1 + 8 + 8;
constexpr std::size_t kMinConstantBytes = 4 + 1 + 8 + 8 + kMinInitBytes;
constexpr std::uint64_t kMaxConstantBytes = 1u << 20;
constexpr std::size_t kMinArgBytes = 1 + 8;
constexpr std::size_t kMinJobBytes = 4 + 4 + 4 + 10 * 8 + 4 + 1 + 4 + 4;
constexpr std::size_t kMinScalarBytes = 1 + 8 + 8 + 1;
constexpr std::size_t kMinStageArgsBytes = 4;
constexpr std::size_t kMinStageJobBytes = 4 + 10 * 8;
constexpr std::size_t kMinTensorMapBytes = 8 + 4 + (8 + 4 + 4) + 4 + 4 + 1;
constexpr std::size_t kMinStatsBytes = 6 * 8 + 8;

constexpr std::size_t kMinResultBytes = 1 + 4 + 5 * 8 + 8 + 4 + 3 * 4 + 4 + 8 + 3 * 8 + 4;

template <class E>
E read_enum(Reader& rd, const char* field, std::uint8_t last) {
  const std::uint8_t v = rd.u8(field);
  if (v > last) rd.fail(field, "unknown value");
  return static_cast<E>(v > last ? 0 : v);
}

void write_device(Writer& w, const cuda::DeviceInfo& d) {
  w.i32(d.ordinal);
  w.str(d.name);
  w.str(d.pci_bus_id);
  w.i32(d.cc_major);
  w.i32(d.cc_minor);
  w.str(d.arch);
  w.i32(d.multiprocessors);
  w.u64(d.total_memory);
  w.i32(d.l2_cache_bytes);
  w.i32(d.max_shared_memory_per_block);
  w.i32(d.max_shared_memory_per_block_optin);
  w.i32(d.max_shared_memory_per_sm);
  w.i32(d.max_registers_per_block);
  w.i32(d.max_threads_per_block);
  w.i32(d.max_threads_per_sm);
  for (int v : d.max_block_dim) w.i32(v);
  for (int v : d.max_grid_dim) w.i32(v);
  w.i32(d.clock_khz);
}

void read_device(Reader& rd, cuda::DeviceInfo& d) {
  d.ordinal = rd.i32("device.ordinal");
  d.name = rd.str("device.name");
  d.pci_bus_id = rd.str("device.pci_bus_id");
  d.cc_major = rd.i32("device.cc_major");
  d.cc_minor = rd.i32("device.cc_minor");
  d.arch = rd.str("device.arch");
  d.multiprocessors = rd.i32("device.multiprocessors");
  d.total_memory = rd.u64("device.total_memory");
  d.l2_cache_bytes = rd.i32("device.l2_cache_bytes");
  d.max_shared_memory_per_block = rd.i32("device.max_shared_memory_per_block");
  d.max_shared_memory_per_block_optin = rd.i32("device.max_shared_memory_per_block_optin");
  d.max_shared_memory_per_sm = rd.i32("device.max_shared_memory_per_sm");
  d.max_registers_per_block = rd.i32("device.max_registers_per_block");
  d.max_threads_per_block = rd.i32("device.max_threads_per_block");
  d.max_threads_per_sm = rd.i32("device.max_threads_per_sm");
  for (int& v : d.max_block_dim) v = rd.i32("device.max_block_dim");
  for (int& v : d.max_grid_dim) v = rd.i32("device.max_grid_dim");
  d.clock_khz = rd.i32("device.clock_khz");
}

void write_file(Writer& w, const DataFileRef& f) {
  w.str(f.path);
  w.u8(static_cast<std::uint8_t>(f.format));
  w.str(f.digest);
}

void read_file(Reader& rd, DataFileRef& f) {
  f.path = rd.str("file.path");
  f.format = read_enum<DataFormat>(rd, "file.format", kLastDataFormat);
  f.digest = rd.str("file.digest");
}

void write_init(Writer& w, const BufferInit& init) {
  w.u8(static_cast<std::uint8_t>(init.kind));
  w.f64(init.low);
  w.f64(init.high);
  w.f64(init.value);
  w.f64(init.mean);
  w.f64(init.stddev);
  w.i64(init.int_low);
  w.i64(init.int_high);
  write_file(w, init.file);
  w.u64(init.source);
  w.u64(init.seed);
}

void read_init(Reader& rd, BufferInit& init) {
  init.kind = read_enum<BufferInit::Kind>(rd, "init.kind", kLastBufferInitKind);
  init.low = rd.f64("init.low");
  init.high = rd.f64("init.high");
  init.value = rd.f64("init.value");
  init.mean = rd.f64("init.mean");
  init.stddev = rd.f64("init.stddev");
  init.int_low = rd.i64("init.int_low");
  init.int_high = rd.i64("init.int_high");
  read_file(rd, init.file);
  init.source = rd.u64("init.source");
  init.seed = rd.u64("init.seed");
  if (!rd.failed() && init.kind == BufferInit::Kind::integers && init.int_low > init.int_high)
    rd.fail("init.int_low", "is above init.int_high");
}

// An argument's kind is one byte: 0 scalar, 1 buffer (the boolean of protocol 5, so those bytes
// did not change), 2 tensor map.
constexpr std::uint8_t kScalarArg = 0, kBufferArg = 1, kTensorMapArg = 2;

void write_args(Writer& w, const std::vector<ArgSlot>& args) {
  w.u32(static_cast<std::uint32_t>(args.size()));
  for (const auto& a : args) {
    w.u8(a.is_tensor_map ? kTensorMapArg : a.is_buffer ? kBufferArg : kScalarArg);
    w.u64(a.index);
  }
}

void read_args(Reader& rd, std::size_t buffers, std::vector<ArgSlot>& args) {
  const std::uint32_t count = rd.count("args", kMinArgBytes);
  for (std::uint32_t i = 0; i < count && !rd.failed(); ++i) {
    ArgSlot slot;
    const std::uint8_t kind = rd.u8("arg.kind");
    if (!rd.failed() && kind > kTensorMapArg) return rd.fail("arg.kind", "unknown value");
    slot.is_buffer = kind == kBufferArg;
    slot.is_tensor_map = kind == kTensorMapArg;
    slot.index = rd.u64("arg.index");
    if (!rd.failed() && slot.is_buffer && slot.index >= buffers) return rd.fail("arg.index", "names a missing buffer");
    args.push_back(slot);
  }
}

void write_shape(Writer& w, const LaunchShape& shape) {
  for (auto v : shape.grid) w.i64(v);
  for (auto v : shape.block) w.i64(v);
  w.i64(shape.dynamic_shared_bytes);
  for (auto v : shape.cluster) w.i64(v);
}

void read_shape(Reader& rd, LaunchShape& shape) {
  for (auto& v : shape.grid) v = rd.i64("job.grid");
  for (auto& v : shape.block) v = rd.i64("job.block");
  shape.dynamic_shared_bytes = rd.i64("job.shared");
  for (auto& v : shape.cluster) v = rd.i64("job.cluster");
}

// Only the rank's values travel; the runner checks the buffer index against its problem.
void write_tensor_map(Writer& w, const TensorMapPlan& t) {
  w.u64(t.buffer);
  w.u32(t.rank);
  for (std::uint32_t d = 0; d < t.rank; ++d) {
    w.u64(t.dims[d]);
    if (d > 0) w.u64(t.stride_bytes[d - 1]);
    w.u32(t.box[d]);
    w.u32(t.element_strides[d]);
  }
  w.u32(t.swizzle_bytes);
  w.u32(t.l2_promotion_bytes);
  w.boolean(t.oob_nan);
}

void read_tensor_map(Reader& rd, TensorMapPlan& t) {
  t.buffer = rd.u64("tensor_map.buffer");
  t.rank = rd.u32("tensor_map.rank");
  if (!rd.failed() && (t.rank < 1 || t.rank > kMaxTensorMapRank)) return rd.fail("tensor_map.rank", "must be 1 to 5");
  for (std::uint32_t d = 0; d < t.rank && !rd.failed(); ++d) {
    t.dims[d] = rd.u64("tensor_map.dims");
    if (d > 0) t.stride_bytes[d - 1] = rd.u64("tensor_map.stride_bytes");
    t.box[d] = rd.u32("tensor_map.box");
    t.element_strides[d] = rd.u32("tensor_map.element_strides");
  }
  t.swizzle_bytes = rd.u32("tensor_map.swizzle_bytes");
  t.l2_promotion_bytes = rd.u32("tensor_map.l2_promotion_bytes");
  t.oob_nan = rd.boolean("tensor_map.oob_nan");
}

void write_stats(Writer& w, const SampleStats& stats) {
  w.f64(stats.median_ns);
  w.f64(stats.min_ns);
  w.f64(stats.mean_ns);
  w.f64(stats.stddev_ns);
  w.f64(stats.noise);
  w.f64(stats.median_se_ns);
  w.u64(stats.samples);
}

void read_stats(Reader& rd, SampleStats& stats) {
  stats.median_ns = rd.f64("result.median_ns");
  stats.min_ns = rd.f64("result.min_ns");
  stats.mean_ns = rd.f64("result.mean_ns");
  stats.stddev_ns = rd.f64("result.stddev_ns");
  stats.noise = rd.f64("result.noise");
  stats.median_se_ns = rd.f64("result.median_se_ns");
  stats.samples = rd.u64("result.samples");
}

void write_problem(Writer& w, const Problem& p) {
  w.u32(static_cast<std::uint32_t>(p.buffers.size()));
  for (const auto& b : p.buffers) {
    w.str(b.name);
    w.u8(static_cast<std::uint8_t>(b.type));
    w.u64(b.count);
    w.u64(b.bytes);
    write_init(w, b.init);
    w.boolean(b.output);
    w.boolean(b.answer.has_value());
    if (b.answer) write_file(w, *b.answer);
    w.f64(b.rtol);
    w.f64(b.atol);
  }
  write_args(w, p.args);
  w.u32(static_cast<std::uint32_t>(p.stage_args.size()));
  for (const auto& args : p.stage_args) write_args(w, args);
  w.u32(static_cast<std::uint32_t>(p.constants.size()));
  for (const auto& c : p.constants) {
    w.str(c.symbol);
    w.u8(static_cast<std::uint8_t>(c.type));
    w.u64(c.count);
    w.u64(c.bytes);
    write_init(w, c.init);
  }
  w.u32(static_cast<std::uint32_t>(p.setup_args.size()));
  for (const auto& args : p.setup_args) write_args(w, args);
}

// Whether `bytes` is `count` elements of `type`. The product can wrap (2^62 halfs are 0 bytes
// mod 2^64), so it is checked, not compared.
bool bytes_match_count(std::uint64_t count, ElementType type, std::uint64_t bytes) {
  std::uint64_t product = 0;
  return !__builtin_mul_overflow(count, element_size(type), &product) && product == bytes;
}

// total_bytes is not sent: the decoder sums what it checked.
void read_problem(Reader& rd, Problem& p) {
  const std::uint32_t buffers = rd.count("buffers", kMinBufferBytes);
  for (std::uint32_t i = 0; i < buffers && !rd.failed(); ++i) {
    BufferPlan plan;
    plan.name = rd.str("buffer.name");
    plan.type = read_enum<ElementType>(rd, "buffer.type", kLastElementType);
    plan.count = rd.u64("buffer.count");
    plan.bytes = rd.u64("buffer.bytes");
    read_init(rd, plan.init);
    plan.output = rd.boolean("buffer.output");
    if (rd.boolean("buffer.has_answer")) read_file(rd, plan.answer.emplace());
    plan.rtol = rd.f64("buffer.rtol");
    plan.atol = rd.f64("buffer.atol");
    if (rd.failed()) return;
    if (!bytes_match_count(plan.count, plan.type, plan.bytes))
      return rd.fail("buffer.bytes", "byte size does not match its count");
    if (plan.bytes > kMaxProblemBytes || p.total_bytes + plan.bytes > kMaxProblemBytes)
      return rd.fail("buffer.bytes", "the problem would exceed 1 TiB");
    p.total_bytes += plan.bytes;
    p.buffers.push_back(std::move(plan));
  }
  read_args(rd, p.buffers.size(), p.args);
  const std::uint32_t stages = rd.count("stage_args", kMinStageArgsBytes);
  if (!rd.failed() && stages >= kMaxPipelineKernels) return rd.fail("stage_args", "more kernels than a pipeline may have");
  for (std::uint32_t i = 0; i < stages && !rd.failed(); ++i) read_args(rd, p.buffers.size(), p.stage_args.emplace_back());
  // A copy names a buffer of this problem, other than itself.
  for (std::size_t b = 0; b < p.buffers.size() && !rd.failed(); ++b) {
    const BufferInit& init = p.buffers[b].init;
    if (init.kind != BufferInit::Kind::copy) continue;
    if (init.source >= p.buffers.size() || init.source == b || p.buffers[init.source].init.kind == BufferInit::Kind::copy ||
        p.buffers[init.source].bytes != p.buffers[b].bytes || p.buffers[init.source].type != p.buffers[b].type)
      return rd.fail("buffer.init.source", "names no other buffer of the same type and size");
  }
  const std::uint32_t constants = rd.count("constants", kMinConstantBytes);
  for (std::uint32_t i = 0; i < constants && !rd.failed(); ++i) {
    ConstantPlan plan;
    plan.symbol = rd.str("constant.symbol");
    plan.type = read_enum<ElementType>(rd, "constant.type", kLastElementType);
    plan.count = rd.u64("constant.count");
    plan.bytes = rd.u64("constant.bytes");
    read_init(rd, plan.init);
    if (rd.failed()) return;
    if (!bytes_match_count(plan.count, plan.type, plan.bytes))
      return rd.fail("constant.bytes", "byte size does not match its count");
    // Constant memory is 64 KiB per module; anything far larger is not a constant symbol's data.
    if (plan.bytes > kMaxConstantBytes) return rd.fail("constant.bytes", "larger than constant memory");
    if (plan.init.kind == BufferInit::Kind::copy) return rd.fail("constant.init.kind", "a constant cannot be a copy");
    p.constants.push_back(std::move(plan));
  }
  const std::uint32_t setup = rd.count("setup_args", kMinStageArgsBytes);
  if (!rd.failed() && setup > kMaxSetupKernels) return rd.fail("setup_args", "more setup kernels than a spec may have");
  for (std::uint32_t i = 0; i < setup && !rd.failed(); ++i) read_args(rd, p.buffers.size(), p.setup_args.emplace_back());
}

void write_options(Writer& w, const MeasureOptions& o) {
  w.u64(o.rule.min_samples);
  w.u64(o.rule.max_samples);
  w.f64(o.rule.max_standard_error);
  w.f64(o.rule.budget_floor_seconds);
  w.f64(o.rule.budget_kernel_times);
  w.f64(o.rule.budget_seconds);
  w.u64(o.rule.prune_after);
  w.f64(o.rule.prune_factor);
  w.u64(o.rule.race_after);
  w.f64(o.rule.race_margin);
  w.f64(o.rule.race_min_best_ns);
  w.boolean(o.flush_l2);
  w.boolean(o.best_median_ns.has_value());
  if (o.best_median_ns) w.f64(*o.best_median_ns);
  w.f64(o.kernel_timeout_seconds);
  w.f64(o.warmup_seconds);
  w.u8(static_cast<std::uint8_t>(o.verify));
  w.boolean(o.use_cupti);
  w.str(o.reference_label);
  w.boolean(o.run_once);
}

void read_options(Reader& rd, MeasureOptions& o) {
  o.rule.min_samples = rd.u64("options.min_samples");
  o.rule.max_samples = rd.u64("options.max_samples");
  o.rule.max_standard_error = rd.f64("options.max_standard_error");
  o.rule.budget_floor_seconds = rd.f64("options.budget_floor_seconds");
  o.rule.budget_kernel_times = rd.f64("options.budget_kernel_times");
  o.rule.budget_seconds = rd.f64("options.budget_seconds");
  o.rule.prune_after = rd.u64("options.prune_after");
  o.rule.prune_factor = rd.f64("options.prune_factor");
  o.rule.race_after = rd.u64("options.race_after");
  o.rule.race_margin = rd.f64("options.race_margin");
  o.rule.race_min_best_ns = rd.f64("options.race_min_best_ns");
  o.flush_l2 = rd.boolean("options.flush_l2");
  if (rd.boolean("options.has_best_median")) o.best_median_ns = rd.f64("options.best_median_ns");
  o.kernel_timeout_seconds = rd.f64("options.kernel_timeout_seconds");
  o.warmup_seconds = rd.f64("options.warmup_seconds");
  o.verify = read_enum<VerifyMode>(rd, "options.verify", static_cast<std::uint8_t>(VerifyMode::compare));
  o.use_cupti = rd.boolean("options.use_cupti");
  o.reference_label = rd.str("options.reference_label");
  o.run_once = rd.boolean("options.run_once");
}

void write_job(Writer& w, const KernelJob& job) {
  w.str(job.label);
  w.str(job.lowered_name);
  w.str(job.cubin);
  write_shape(w, job.launch.shape);
  w.u32(static_cast<std::uint32_t>(job.launch.scalars.size()));
  for (const auto& s : job.launch.scalars) {
    w.u8(static_cast<std::uint8_t>(s.type));
    w.i64(s.integer);
    w.f64(s.floating);
    w.boolean(s.is_floating);
  }
  // A pipeline's later kernels: name and shape of each (the decoder checks there is one of each).
  w.boolean(job.own_args.has_value());
  if (job.own_args) write_args(w, *job.own_args);
  w.u32(static_cast<std::uint32_t>(job.stage_lowered_names.size()));
  for (std::size_t i = 0; i < job.stage_lowered_names.size(); ++i) {
    w.str(job.stage_lowered_names[i]);
    write_shape(w, i < job.launch.stage_shapes.size() ? job.launch.stage_shapes[i] : LaunchShape{});
  }
  w.u32(static_cast<std::uint32_t>(job.launch.tensor_maps.size()));
  for (const auto& t : job.launch.tensor_maps) write_tensor_map(w, t);
  // Setup kernels likewise.
  w.u32(static_cast<std::uint32_t>(job.setup_lowered_names.size()));
  for (std::size_t i = 0; i < job.setup_lowered_names.size(); ++i) {
    w.str(job.setup_lowered_names[i]);
    write_shape(w, i < job.launch.setup_shapes.size() ? job.launch.setup_shapes[i] : LaunchShape{});
  }
}

void read_job(Reader& rd, KernelJob& job) {
  job.label = rd.str("job.label");
  job.lowered_name = rd.str("job.lowered_name");
  job.cubin = rd.str("job.cubin");
  read_shape(rd, job.launch.shape);
  const std::uint32_t scalars = rd.count("job.scalars", kMinScalarBytes);
  for (std::uint32_t i = 0; i < scalars && !rd.failed(); ++i) {
    ScalarArg arg;
    arg.type = read_enum<ElementType>(rd, "scalar.type", kLastElementType);
    arg.integer = rd.i64("scalar.integer");
    arg.floating = rd.f64("scalar.floating");
    arg.is_floating = rd.boolean("scalar.is_floating");
    job.launch.scalars.push_back(arg);
  }
  // The problem is not known here: the runner checks buffer indices against it (prepare).
  if (rd.boolean("job.has_own_args")) read_args(rd, SIZE_MAX, job.own_args.emplace());
  const std::uint32_t stages = rd.count("job.stages", kMinStageJobBytes);
  if (!rd.failed() && stages >= kMaxPipelineKernels) return rd.fail("job.stages", "more kernels than a pipeline may have");
  for (std::uint32_t i = 0; i < stages && !rd.failed(); ++i) {
    job.stage_lowered_names.push_back(rd.str("job.stage_lowered_name"));
    read_shape(rd, job.launch.stage_shapes.emplace_back());
  }
  const std::uint32_t tensor_maps = rd.count("job.tensor_maps", kMinTensorMapBytes);
  for (std::uint32_t i = 0; i < tensor_maps && !rd.failed(); ++i) read_tensor_map(rd, job.launch.tensor_maps.emplace_back());
  const std::uint32_t setup = rd.count("job.setup", kMinStageJobBytes);
  if (!rd.failed() && setup > kMaxSetupKernels) return rd.fail("job.setup", "more setup kernels than a spec may have");
  for (std::uint32_t i = 0; i < setup && !rd.failed(); ++i) {
    job.setup_lowered_names.push_back(rd.str("job.setup_lowered_name"));
    read_shape(rd, job.launch.setup_shapes.emplace_back());
  }
}

void write_measurement(Writer& w, const KernelMeasurement& m) {
  w.u8(static_cast<std::uint8_t>(m.status));
  w.str(m.message);
  write_stats(w, m.stats);
  w.str(m.timer);
  w.i32(m.registers);
  w.i32(m.static_shared_bytes);
  w.i32(m.local_bytes);
  w.u32(m.sm_clock_mhz);
  w.u64(m.dropped_samples);
  w.f64(m.max_abs_error);
  w.f64(m.max_rel_error);
  w.f64(m.wall_seconds);
  for (double seconds : {m.phases.load, m.phases.first_run, m.phases.verify, m.phases.warm_up, m.phases.sampling}) w.f64(seconds);
  w.u8(static_cast<std::uint8_t>(m.stop));
  w.boolean(m.verified_on_device);
  w.u32(static_cast<std::uint32_t>(m.stage_stats.size()));
  for (const auto& stats : m.stage_stats) write_stats(w, stats);
}

void read_measurement(Reader& rd, KernelMeasurement& m) {
  m.status = read_enum<MeasurementStatus>(rd, "result.status", kLastMeasurementStatus);
  m.message = rd.str("result.message");
  read_stats(rd, m.stats);
  m.timer = rd.str("result.timer");
  m.registers = rd.i32("result.registers");
  m.static_shared_bytes = rd.i32("result.static_shared_bytes");
  m.local_bytes = rd.i32("result.local_bytes");
  m.sm_clock_mhz = rd.u32("result.sm_clock_mhz");
  m.dropped_samples = rd.u64("result.dropped_samples");
  m.max_abs_error = rd.f64("result.max_abs_error");
  m.max_rel_error = rd.f64("result.max_rel_error");
  m.wall_seconds = rd.f64("result.wall_seconds");
  for (double* seconds : {&m.phases.load, &m.phases.first_run, &m.phases.verify, &m.phases.warm_up, &m.phases.sampling})
    *seconds = rd.f64("result.phases");
  m.stop = read_enum<StopDecision>(rd, "result.stop", static_cast<std::uint8_t>(StopDecision::outranked));
  m.verified_on_device = rd.boolean("result.verified_on_device");
  const std::uint32_t stages = rd.count("result.stage_stats", kMinStatsBytes);
  if (!rd.failed() && stages > kMaxPipelineKernels) return rd.fail("result.stage_stats", "more kernels than a pipeline may have");
  for (std::uint32_t i = 0; i < stages && !rd.failed(); ++i) read_stats(rd, m.stage_stats.emplace_back());
}

}  // namespace


std::string encode_hello(const RunnerHello& h) {
  Writer w;
  w.u32(static_cast<std::uint32_t>(kRunnerProtocolVersion));
  w.boolean(h.ok);
  w.str(h.error);
  write_device(w, h.device);
  w.boolean(h.cupti);
  w.i32(h.pid);
  return w.take();
}

Result<RunnerHello> decode_hello(std::string_view payload) {
  Reader rd(payload);
  const std::uint32_t version = rd.u32("version");
  if (!rd.failed() && version != static_cast<std::uint32_t>(kRunnerProtocolVersion))
    return make_error(Errc::corrupt, "ktune-runner speaks protocol " + std::to_string(version) + ", expected " +
                                         std::to_string(kRunnerProtocolVersion) + " (mismatched binaries?)");
  RunnerHello h;
  h.ok = rd.boolean("ok");
  h.error = rd.str("error");
  read_device(rd, h.device);
  h.cupti = rd.boolean("cupti");
  h.pid = rd.i32("pid");
  if (auto s = rd.finish("runner hello"); !s) return s.error();
  return h;
}

std::string encode_request(const RunnerRequest& r) {
  Writer w;
  w.u8(static_cast<std::uint8_t>(r.op));
  if (r.op == RunnerOp::problem) write_problem(w, r.problem);
  if (r.op == RunnerOp::measure) {
    write_options(w, r.options);
    w.u32(static_cast<std::uint32_t>(r.jobs.size()));
    for (const auto& job : r.jobs) write_job(w, job);
  }
  return w.take();
}

Result<RunnerRequest> decode_request(std::string_view payload) {
  Reader rd(payload);
  RunnerRequest r;
  const std::uint8_t op = rd.u8("op");
  if (!rd.failed() && op > static_cast<std::uint8_t>(RunnerOp::quit))
    return make_error(Errc::corrupt, "wire: malformed runner request: unknown runner operation " + std::to_string(op));
  r.op = static_cast<RunnerOp>(op);
  if (!rd.failed() && r.op == RunnerOp::problem) read_problem(rd, r.problem);
  if (!rd.failed() && r.op == RunnerOp::measure) {
    read_options(rd, r.options);
    const std::uint32_t jobs = rd.count("jobs", kMinJobBytes);
    for (std::uint32_t i = 0; i < jobs && !rd.failed(); ++i) read_job(rd, r.jobs.emplace_back());
  }
  if (auto s = rd.finish("runner request"); !s) return s.error();
  return r;
}

std::string encode_response(const RunnerResponse& r) {
  Writer w;
  w.boolean(r.ok);
  w.str(r.error);
  w.boolean(r.poisoned);
  w.u32(static_cast<std::uint32_t>(r.results.size()));
  for (const auto& m : r.results) write_measurement(w, m);
  return w.take();
}

Result<RunnerResponse> decode_response(std::string_view payload) {
  Reader rd(payload);
  RunnerResponse r;
  r.ok = rd.boolean("ok");
  r.error = rd.str("error");
  r.poisoned = rd.boolean("poisoned");
  const std::uint32_t results = rd.count("results", kMinResultBytes);
  for (std::uint32_t i = 0; i < results && !rd.failed(); ++i) read_measurement(rd, r.results.emplace_back());
  if (auto s = rd.finish("runner response"); !s) return s.error();
  return r;
}

}  // namespace ktune::runner
