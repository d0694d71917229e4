#include "engine/model/instantiate.hpp"

#include "engine/model/included_headers.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <filesystem>

namespace ktune {

using runner::LaunchPlan;
using runner::Problem;
using runner::ScalarArg;

namespace {

Result<std::int64_t> evaluate(const Expr& expr, const std::vector<std::int64_t>& slots, const std::string& what) {
  EvalResult r = expr.evaluate(slots);
  if (!r.ok())
    return make_error(Errc::invalid_argument, what + " \"" + expr.text() + "\" cannot be evaluated: " + eval_error_text(r.error));
  return r.value;
}

// A data file's element type and count against a destination at these sizes, and a raw file's
// stated shape (its product must be the destination's count).
Status file_fits(const DataFile& file, ElementType type, std::uint64_t count, const std::vector<std::int64_t>& slots,
                 const std::string& path) {
  if (auto fits = check_layout_fits(file.layout, type, count); !fits)
    return make_error(Errc::invalid_argument, path + ": " + file.given + " " + fits.error().message + " at these sizes");
  if (file.shape.empty()) return Ok{};
  std::uint64_t product = 1;
  std::string dims;
  for (std::size_t d = 0; d < file.shape.size(); ++d) {
    auto dim = evaluate(file.shape[d], slots, path + ".shape[" + std::to_string(d) + "]");
    if (!dim) return dim.error();
    if (*dim < 0 || __builtin_mul_overflow(product, static_cast<std::uint64_t>(*dim), &product))
      return make_error(Errc::invalid_argument, path + ".shape: dimension " + std::to_string(*dim) + " is out of range");
    dims += (d ? ", " : "") + std::to_string(*dim);
  }
  if (product != count)
    return make_error(Errc::invalid_argument, path + ".shape: (" + dims + ") holds " + std::to_string(product) + " elements, the destination has " +
                                                  std::to_string(count) + " at these sizes");
  return Ok{};
}

// The runner's BufferInit of `init` at these slots: integer bounds evaluated and checked against
// the element type, a file's element count checked against `count`. (A copy's source index is
// the caller's to set.)
Result<runner::BufferInit> init_at(const DataInit& init, ElementType type, std::uint64_t count,
                                   const std::vector<std::int64_t>& slots, const std::string& path) {
  runner::BufferInit out = init;
  if (init.kind == BufferInit::Kind::integers) {
    auto low = evaluate(*init.int_min, slots, path + ".integers.min");
    if (!low) return low.error();
    auto high = evaluate(*init.int_max, slots, path + ".integers.max");
    if (!high) return high.error();
    if (*low > *high)
      return make_error(Errc::invalid_argument, path + ".integers: min " + std::to_string(*low) + " is above max " +
                                                    std::to_string(*high) + " at these sizes");
    if (!is_floating(type)) {
      // The bounds must be values of the element type; saturating would pile data up at a bound.
      const int bits = static_cast<int>(8 * element_size(type));
      const bool is_signed = type == ElementType::i8 || type == ElementType::i16 || type == ElementType::i32 || type == ElementType::i64;
      const std::int64_t lowest = is_signed ? (bits == 64 ? INT64_MIN : -(std::int64_t{1} << (bits - 1))) : 0;
      const std::int64_t highest = bits == 64 ? INT64_MAX : is_signed ? (std::int64_t{1} << (bits - 1)) - 1 : (std::int64_t{1} << bits) - 1;
      if (*low < lowest || *high > highest)
        return make_error(Errc::invalid_argument, path + ".integers: [" + std::to_string(*low) + ", " + std::to_string(*high) +
                                                      "] does not fit " + element_type_name(type));
    }
    out.int_low = *low;
    out.int_high = *high;
  }
  if (init.kind == BufferInit::Kind::file) {
    if (auto fits = file_fits(*init.data_file, type, count, slots, path); !fits) return fits.error();
  }
  return out;
}

// A launch geometry's expressions at these slots; errors name `path` ("launch", "pipeline[1].launch", ...).
Result<runner::LaunchShape> evaluate_geometry(const LaunchGeometry& geometry, const std::vector<std::int64_t>& slots,
                                              const std::string& path) {
  runner::LaunchShape shape;
  const char* axis[] = {"x", "y", "z"};
  for (std::size_t i = 0; i < 3; ++i) {
    auto grid = evaluate(geometry.grid[i], slots, path + ".grid." + axis[i]);
    if (!grid) return grid.error();
    auto block = evaluate(geometry.block[i], slots, path + ".block." + axis[i]);
    if (!block) return block.error();
    shape.grid[i] = *grid;
    shape.block[i] = *block;
  }
  auto shared = evaluate(geometry.shared_memory_bytes, slots, path + ".shared_memory");
  if (!shared) return shared.error();
  shape.dynamic_shared_bytes = *shared;
  if (geometry.cluster) {
    for (std::size_t i = 0; i < 3; ++i) {
      auto blocks = evaluate((*geometry.cluster)[i], slots, path + ".cluster." + axis[i]);
      if (!blocks) return blocks.error();
      if (*blocks < 1) return make_error(Errc::invalid_argument, path + ".cluster." + axis[i] + " is " + std::to_string(*blocks) + "; must be at least 1");
      shape.cluster[i] = *blocks;
    }
  }
  return shape;
}

// A tensor_map argument at these slots: every expression evaluated and checked against what
// cuTensorMapEncodeTiled accepts, so a bad box or swizzle is this configuration's
// invalid_config with the value named (the driver's own refusals come back from the runner).
Result<runner::TensorMapPlan> evaluate_tensor_map(const Argument& arg, const Argument& tensor, std::size_t buffer,
                                                  const std::vector<std::int64_t>& slots) {
  const TensorMapSpec& map = *arg.tensor_map;
  const std::string path = "args." + arg.name;
  const std::uint64_t element = element_size(arg.type);
  runner::TensorMapPlan plan;
  plan.buffer = buffer;
  plan.rank = static_cast<std::uint32_t>(map.dims.size());
  auto value = [&](const Expr& expr, const std::string& what, std::int64_t low, std::int64_t high) -> Result<std::int64_t> {
    auto v = evaluate(expr, slots, what);
    if (!v) return v.error();
    if (*v < low || *v > high)
      return make_error(Errc::invalid_argument, what + " \"" + expr.text() + "\" is " + std::to_string(*v) + "; must be " +
                                                    std::to_string(low) + " to " + std::to_string(high));
    return *v;
  };
  std::uint64_t packed = 1;  // elements between consecutive indices of the next dimension, packed
  for (std::size_t d = 0; d < map.dims.size(); ++d) {
    const std::string at = "[" + std::to_string(d) + "]";
    auto dim = value(map.dims[d], path + ".dims" + at, 1, std::int64_t{1} << 32);
    if (!dim) return dim.error();
    plan.dims[d] = static_cast<std::uint64_t>(*dim);
    auto box = value(map.box[d], path + ".box" + at, 1, 256);
    if (!box) return box.error();
    plan.box[d] = static_cast<std::uint32_t>(*box);
    if (map.element_strides.empty()) {
      plan.element_strides[d] = 1;
    } else {
      auto stride = value(map.element_strides[d], path + ".element_strides" + at, 1, 8);
      if (!stride) return stride.error();
      plan.element_strides[d] = static_cast<std::uint32_t>(*stride);
    }
    if (d == 0) {
      if ((plan.box[0] * element) % 16 != 0)
        return make_error(Errc::invalid_argument, path + ".box[0] is " + std::to_string(plan.box[0]) + " elements of " +
                                                      std::to_string(element) + " bytes: " + std::to_string(plan.box[0] * element) +
                                                      " bytes, not a multiple of 16");
    } else {
      std::uint64_t elements = packed;
      if (!map.strides.empty()) {
        auto stride = value(map.strides[d - 1], path + ".strides[" + std::to_string(d - 1) + "]", 1, std::int64_t{1} << 40);
        if (!stride) return stride.error();
        elements = static_cast<std::uint64_t>(*stride);
      }
      const std::uint64_t bytes = elements * element;
      if (bytes % 16 != 0 || bytes >= (std::uint64_t{1} << 40))
        return make_error(Errc::invalid_argument, path + ": the stride of dims[" + std::to_string(d) + "] is " +
                                                      std::to_string(elements) + " elements = " + std::to_string(bytes) +
                                                      " bytes; must be a multiple of 16 below 2^40");
      plan.stride_bytes[d - 1] = bytes;
    }
    if (__builtin_mul_overflow(packed, plan.dims[d], &packed)) packed = UINT64_MAX;
  }
  auto swizzle = evaluate(map.swizzle, slots, path + ".swizzle");
  if (!swizzle) return swizzle.error();
  if (*swizzle != 0 && *swizzle != 32 && *swizzle != 64 && *swizzle != 128)
    return make_error(Errc::invalid_argument, path + ".swizzle \"" + map.swizzle.text() + "\" is " + std::to_string(*swizzle) +
                                                  " bytes; must be 0, 32, 64 or 128");
  plan.swizzle_bytes = static_cast<std::uint32_t>(*swizzle);
  auto l2 = evaluate(map.l2_promotion, slots, path + ".l2_promotion");
  if (!l2) return l2.error();
  if (*l2 != 0 && *l2 != 64 && *l2 != 128 && *l2 != 256)
    return make_error(Errc::invalid_argument, path + ".l2_promotion \"" + map.l2_promotion.text() + "\" is " + std::to_string(*l2) +
                                                  " bytes; must be 0, 64, 128 or 256");
  plan.l2_promotion_bytes = static_cast<std::uint32_t>(*l2);
  plan.oob_nan = map.oob_nan;
  // The last element the map can address must lie in the buffer: TMA reads and writes whatever the
  // descriptor says, and a stride or dimension too large would fault the context.
  auto count = evaluate(*tensor.count, slots, "args." + tensor.name + ".count");
  if (!count) return count.error();
  std::uint64_t reach = plan.dims[0] * element;
  for (std::uint32_t d = 1; d < plan.rank; ++d) {
    std::uint64_t step = 0;
    if (__builtin_mul_overflow(plan.dims[d] - 1, plan.stride_bytes[d - 1], &step) || __builtin_add_overflow(reach, step, &reach))
      reach = UINT64_MAX;
  }
  const std::uint64_t holds = static_cast<std::uint64_t>(std::max<std::int64_t>(*count, 0)) * element;
  if (reach > holds)
    return make_error(Errc::invalid_argument, path + ": its dims and strides reach " + std::to_string(reach) + " bytes; " +
                                                  tensor.name + " holds " + std::to_string(holds));
  return plan;
}

// Each argument of the spec as the runner passes it: buffers numbered as make_problem allocates
// them (in spec order), scalars as plan_launch evaluates them (in spec order).
std::vector<runner::ArgSlot> declared_arg_slots(const KernelSpec& spec) {
  std::vector<runner::ArgSlot> slots;
  std::size_t buffers = 0, scalars = 0, tensor_maps = 0;
  for (const auto& arg : spec.args) {
    if (arg.tensor_map) slots.push_back({false, tensor_maps++, true});
    else slots.push_back({arg.is_buffer, arg.is_buffer ? buffers++ : scalars++});
  }
  return slots;
}

// The index in Problem::buffers of each buffer argument of the spec (by argument index).
std::size_t buffer_index(const KernelSpec& spec, std::size_t arg) {
  return static_cast<std::size_t>(std::count_if(spec.args.begin(), spec.args.begin() + static_cast<std::ptrdiff_t>(arg),
                                                [](const Argument& a) { return a.is_buffer; }));
}

}  // namespace

Result<Problem> make_problem(const KernelSpec& spec, const Sizes& sizes, const Config* config) {
  // Buffer counts depend on sizes only (the parser checks), so the default config's slots serve.
  auto slots = spec.slots(spec.default_config, sizes);
  if (!slots) return slots.error();
  Problem problem;
  std::size_t scalars = 0, tensor_maps = 0;
  std::vector<std::size_t> buffer_of_arg(spec.args.size(), 0);
  for (std::size_t a = 0; a < spec.args.size(); ++a) {
    const Argument& arg = spec.args[a];
    if (arg.tensor_map) {  // built per configuration (plan_launch), on a buffer of this problem
      problem.args.push_back({false, tensor_maps++, true});
      continue;
    }
    if (!arg.is_buffer) {
      // A scalar over sizes only is the same for every configuration: one that does not fit its
      // type is the problem's mistake, said once here rather than by every configuration.
      const bool sizes_only = arg.value && std::all_of(arg.value->slots_used().begin(), arg.value->slots_used().end(),
                                                       [&](int slot) { return slot >= static_cast<int>(spec.space.params.size()); });
      if (sizes_only) {
        auto value = evaluate(*arg.value, *slots, "args." + arg.name + ".value");
        if (value && !integer_fits(arg.type, *value))
          return make_error(Errc::invalid_argument, "args." + arg.name + ".value \"" + arg.value->text() + "\" is " +
                                                        std::to_string(*value) + ", outside " + element_type_name(arg.type) +
                                                        " (" + integer_range_text(arg.type) + ")");
      }
      problem.args.push_back({false, scalars++});
      continue;
    }
    const ElementType type = config ? spec.arg_type(arg, *config) : arg.type;
    auto count = evaluate(*arg.count, *slots, "args." + arg.name + ".count");
    if (!count) return count.error();
    if (*count < 0)
      return make_error(Errc::invalid_argument, "args." + arg.name + ".count is negative (" + std::to_string(*count) + ")");
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(*count), element_size(type), &bytes) ||
        bytes > runner::kMaxProblemBytes || problem.total_bytes + bytes > runner::kMaxProblemBytes)
      return make_error(Errc::invalid_argument, "args." + arg.name + " needs " + std::to_string(*count) +
                                                    " elements: the problem would exceed 1 TiB; check the sizes");
    auto init = init_at(arg.init, type, static_cast<std::uint64_t>(*count), *slots, "args." + arg.name + ".init");
    if (!init) return init.error();
    runner::BufferPlan plan{arg.name, type, static_cast<std::uint64_t>(*count), bytes, *init, arg.output, std::nullopt, 0, 0};
    if (arg.output) {
      const Tolerances tolerances = spec.verify.tolerances_for(arg, type);
      plan.rtol = tolerances.rtol;
      plan.atol = tolerances.atol;
      const OutputCheck* check = spec.verify.output(arg.name);
      if (spec.verify.enabled && check && check->answer) {
        if (auto fits = file_fits(*check->answer, arg.type, plan.count, *slots, "verify.outputs." + arg.name + ".answer"); !fits)
          return fits.error();
        plan.answer = check->answer->ref;
      }
    }
    problem.total_bytes += bytes;
    buffer_of_arg[a] = problem.buffers.size();
    problem.args.push_back({true, problem.buffers.size()});
    problem.buffers.push_back(std::move(plan));
  }
  // A pipeline's kernels, and setup kernels, each take the spec's arguments they list, in their order.
  const std::vector<runner::ArgSlot> declared = declared_arg_slots(spec);
  auto stage_slots = [&declared](const PipelineStage& stage) {
    std::vector<runner::ArgSlot> out;
    for (std::size_t a : stage.args) out.push_back(declared[a]);
    return out;
  };
  if (spec.is_pipeline()) {
    problem.args = stage_slots(spec.pipeline.front());
    for (std::size_t i = 1; i < spec.pipeline.size(); ++i) problem.stage_args.push_back(stage_slots(spec.pipeline[i]));
  }
  for (const auto& kernel : spec.setup) problem.setup_args.push_back(stage_slots(kernel));
  for (std::size_t a = 0; a < spec.args.size(); ++a) {
    const Argument& arg = spec.args[a];
    if (!arg.is_buffer || arg.init.kind != BufferInit::Kind::copy) continue;
    auto source = std::find_if(spec.args.begin(), spec.args.end(), [&](const Argument& x) { return x.name == arg.init.copy_of; });
    runner::BufferPlan& plan = problem.buffers[buffer_of_arg[a]];
    plan.init.source = buffer_of_arg[static_cast<std::size_t>(source - spec.args.begin())];
    if (problem.buffers[plan.init.source].count != plan.count)
      return make_error(Errc::invalid_argument, "args." + arg.name + ".init.copy: " + arg.init.copy_of + " has " +
                                                    std::to_string(problem.buffers[plan.init.source].count) + " elements, " +
                                                    arg.name + " has " + std::to_string(plan.count) + " at these sizes");
  }
  for (const auto& constant : spec.constants) {
    const std::string path = "constants." + constant.name;
    std::uint64_t count = 0;
    if (constant.count) {
      auto value = evaluate(*constant.count, *slots, path + ".count");
      if (!value) return value.error();
      if (*value < 0) return make_error(Errc::invalid_argument, path + ".count is negative (" + std::to_string(*value) + ")");
      count = static_cast<std::uint64_t>(*value);
    } else {
      count = constant.init.data_file->layout.count;
    }
    // Constant memory is 64 KiB; the runner checks the symbol's own size in each cubin.
    if (count > (1u << 20) / element_size(constant.type))
      return make_error(Errc::invalid_argument, path + " has " + std::to_string(count) + " elements: more than constant memory holds");
    auto init = init_at(constant.init, constant.type, count, *slots, path + ".init");
    if (!init) return init.error();
    problem.constants.push_back({constant.name, constant.type, count, count * element_size(constant.type), *init});
  }
  return problem;
}

Result<LaunchPlan> plan_launch(const KernelSpec& spec, const Config& config, const Sizes& sizes) {
  auto slots = spec.slots(config, sizes);
  if (!slots) return slots.error();
  LaunchPlan plan;
  auto shape = evaluate_geometry(spec.launch, *slots, spec.is_pipeline() ? "pipeline[0].launch" : "launch");
  if (!shape) return shape.error();
  plan.shape = *shape;
  for (std::size_t i = 1; i < spec.pipeline.size(); ++i) {
    auto stage = evaluate_geometry(spec.pipeline[i].launch, *slots, "pipeline[" + std::to_string(i) + "].launch");
    if (!stage) return stage.error();
    plan.stage_shapes.push_back(*stage);
  }
  for (std::size_t i = 0; i < spec.setup.size(); ++i) {
    auto setup = evaluate_geometry(spec.setup[i].launch, *slots, "setup[" + std::to_string(i) + "].launch");
    if (!setup) return setup.error();
    plan.setup_shapes.push_back(*setup);
  }
  for (std::size_t a = 0; a < spec.args.size(); ++a) {
    const Argument& arg = spec.args[a];
    if (arg.tensor_map) {
      auto map = evaluate_tensor_map(arg, spec.args[arg.tensor_map->tensor], buffer_index(spec, arg.tensor_map->tensor), *slots);
      if (!map) return map.error();
      plan.tensor_maps.push_back(*map);
      continue;
    }
    if (arg.is_buffer) continue;
    ScalarArg scalar;
    scalar.type = arg.type;
    if (arg.value) {
      auto value = evaluate(*arg.value, *slots, "args." + arg.name + ".value");
      if (!value) return value.error();
      // The kernel receives the scalar in its own width; a value that does not fit would wrap
      // silently (5'000'000'000 as an int is 705'032'704).
      if (!integer_fits(arg.type, *value))
        return make_error(Errc::invalid_argument, "args." + arg.name + ".value \"" + arg.value->text() + "\" is " +
                                                      std::to_string(*value) + ", outside " + element_type_name(arg.type) +
                                                      " (" + integer_range_text(arg.type) + ")");
      scalar.integer = *value;
    } else {
      scalar.is_floating = true;
      scalar.floating = arg.float_value;
    }
    plan.scalars.push_back(scalar);
  }
  return plan;
}

Result<std::string> choose_arch(const std::string& requested, const std::string& device_arch, const KernelSpec& spec) {
  std::string arch = !requested.empty() ? requested : !device_arch.empty() ? device_arch : "sm_90";
  bool well_formed = arch.rfind("sm_", 0) == 0 && arch.size() >= 5;
  for (std::size_t i = 3; well_formed && i < arch.size(); ++i)
    well_formed = std::isdigit(static_cast<unsigned char>(arch[i])) || (i + 1 == arch.size() && arch[i] == 'a');
  if (!well_formed)
    return make_error(Errc::invalid_argument, "expected a real architecture such as sm_90, got '" + arch + "'");
  if (spec.arch_specific && arch.back() != 'a') arch += 'a';
  return arch;
}

// NVRTC ships a few headers built in (cuda_fp16.h, ...) but not the toolkit's others (mma.h,
// cuda/pipeline, ...); kernels include those as they would with nvcc, so the toolkit's include
// folder and its CCCL folder (CUB, Thrust) are always on the path (toolkit_include_dirs,
// engine/model/included_headers.hpp).

workers::CompileJob make_compile_job(const KernelSpec& spec, const Config& config, const std::string& arch,
                                     bool use_nvrtc_cache, const Sizes* sizes) {
  workers::CompileJob job;
  job.source = spec.source;
  // The cubin key hashes the job's source, not the files it includes: the digest of the included
  // headers goes in as a trailing comment, so an edited header is a new cubin (NVRTC ignores it).
  if (!spec.headers_digest.empty()) job.source += "\n// ktune: included headers " + spec.headers_digest + "\n";
  job.source_name = spec.source_path.empty() ? spec.name + ".cu" : spec.source_path.filename().string();
  job.name_expressions = spec.name_expressions_for(config);  // a pipeline: every kernel, one cubin
  job.defines = spec.defines_for(config, sizes);
  job.options = spec.compile_options;
  for (const auto& dir : spec.include_dirs) job.options.push_back("-I" + dir.string());
  for (const auto& dir : toolkit_include_dirs()) job.options.push_back("-I" + dir);
  job.arch = arch;
  job.use_nvrtc_cache = use_nvrtc_cache;
  // Heavy headers (a package such as CUTLASS) may be precompiled once per worker, where the pool
  // has PCH on (docs/workers.md).
  job.use_pch = !spec.packages.empty();
  return job;
}

Result<Instance> instantiate_reference(const KernelSpec& spec, const Sizes& sizes, const std::string& arch,
                                       const Config* config) {
  if (!spec.verify.kernel) return make_error(Errc::invalid_argument, "the spec names no reference kernel");
  const ReferenceKernel& reference = *spec.verify.kernel;
  const Config values = config ? spec.reference_config_for(*config) : spec.default_config;
  // Same arguments as the tuned kernel (scalars at the default configuration), its own geometry.
  auto launch = plan_launch(spec, values, sizes);
  if (!launch) return launch.error();
  auto slots = spec.slots(values, sizes);
  if (!slots) return slots.error();
  auto shape = evaluate_geometry(reference.launch, *slots, "verify.against.kernel.launch");
  if (!shape) return shape.error();
  launch->shape = *shape;
  launch->stage_shapes.clear();  // one kernel, also for a pipeline
  launch->setup_shapes.clear();  // its own program: the spec's setup kernels are not in it

  // The default configuration's defines, so a second entry of the tuned kernel's own source
  // compiles (its other code may use the parameters); the reference's options after the spec's.
  workers::CompileJob job = make_compile_job(spec, values, arch, true, &sizes);
  job.source = reference.source;
  if (!spec.headers_digest.empty()) job.source += "\n// ktune: included headers " + spec.headers_digest + "\n";
  job.source_name = reference.source_path.empty() ? spec.name + "_reference.cu" : reference.source_path.filename().string();
  job.name_expressions = {reference.entry};
  // A matched parameter that the tuned kernel takes as a template argument reaches the reference
  // kernel as a define too: its value is what the reference must compute with.
  if (spec.passing == ParamPassing::template_)
    for (const auto& name : spec.verify.match)
      if (std::find(spec.template_args.begin(), spec.template_args.end(), name) != spec.template_args.end())
        if (auto value = find_value(values, name)) job.defines.push_back("-D" + name + "=" + spec.value_text(name, *value));
  job.options.insert(job.options.end(), reference.compile_options.begin(), reference.compile_options.end());
  Instance instance{std::move(job), std::move(*launch), std::nullopt};
  // A pipeline's reference kernel computes what the whole pipeline does: it takes every argument
  // the spec declares, in that order.
  if (spec.is_pipeline()) instance.own_args = declared_arg_slots(spec);
  return instance;
}

Result<Instance> instantiate(const KernelSpec& spec, const Config& config, const Sizes& sizes, const std::string& arch,
                             bool use_nvrtc_cache) {
  auto launch = plan_launch(spec, config, sizes);
  if (!launch) return launch.error();
  return Instance{make_compile_job(spec, config, arch, use_nvrtc_cache, &sizes), std::move(*launch), std::nullopt};
}

}  // namespace ktune
