#pragma once
// The kernel spec: everything ktune needs to compile, launch, verify and key one tunable CUDA
// kernel. Written as JSON ("ktune_spec": 1, documented in docs/spec.md) and parsed by
// KernelSpec::from_file / from_json. Every mistake in a spec is an Error naming the field.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/data_file.hpp"
#include "engine/common/element_type.hpp"
#include "engine/common/expr.hpp"
#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "engine/model/packages.hpp"
#include "engine/model/size_buckets.hpp"
#include "engine/runner/buffer_init.hpp"
#include "tuner/param_space.hpp"

namespace ktune {

inline constexpr int kSpecVersion = 1;

// How a configuration's parameter values reach the kernel source.
enum class ParamPassing : std::uint8_t {
  defines,    // -DNAME=value for every parameter (the default)
  template_,  // entry<v1, v2, ...> through an NVRTC name expression
};

// How a buffer is filled: a plain type of the runner's launch plan (the runner must not depend on the spec).
using runner::BufferInit;
using runner::DataFileRef;

// A data file the spec names, as read when the spec was loaded: where it is (resolved against the
// spec's folder), its digest, and its layout (checked against a buffer's count once sizes are known).
struct DataFile {
  DataFileRef ref;
  DataLayout layout;
  std::string given;  // the path as the spec wrote it, for messages and keys (never machine-specific)
  std::vector<Expr> shape;  // raw files: the shape the spec states (over sizes), checked at sizes
};

// How a buffer or a constant symbol is filled, as the spec says it: the runner's BufferInit, with
// what depends on sizes still as expressions and the data file's layout (make_problem evaluates
// and checks them).
struct DataInit : BufferInit {
  std::optional<Expr> int_min, int_max;  // integers: inclusive bounds, expressions over sizes
  std::optional<DataFile> data_file;     // file
  std::string copy_of;                   // copy: the argument whose initial data this repeats
};

// A TMA descriptor argument ("type": "tensor_map", docs/spec.md): built by the runner from a
// buffer argument at each configuration's values and passed by value (128 bytes).
struct TensorMapSpec {
  std::size_t tensor = 0;  // index into KernelSpec::args: the buffer it describes
  std::vector<Expr> dims;  // innermost first, in elements; 1 to 5
  std::vector<Expr> strides;  // rank - 1, in elements, of dims[1], dims[2], ...; empty: packed
  std::vector<Expr> box;      // rank
  std::vector<Expr> element_strides;  // rank; empty: all 1
  Expr swizzle;       // bytes: 0, 32, 64 or 128
  Expr l2_promotion;  // bytes: 0, 64, 128 or 256
  bool oob_nan = false;  // "oob_fill": "nan" (else "zeros")
};

struct Argument {
  std::string name;
  // A tensor map: its buffer's type. With type_param: the default configuration's type.
  ElementType type = ElementType::f32;
  bool is_buffer = false;
  std::optional<TensorMapSpec> tensor_map;  // a tensor map (then neither a buffer nor a scalar)
  // A buffer whose element type follows a named choice ("const T*", T a parameter whose choices
  // are type names): that parameter. Its buffers are allocated and filled per type value
  // (KernelSpec::arg_type), and verification compares within one type value.
  std::string type_param;
  // buffers
  std::optional<Expr> count;  // element count
  DataInit init;
  bool output = false;
  // scalars: an integer expression, or a floating literal for float/double scalars
  std::optional<Expr> value;
  double float_value = 0.0;
};

struct LaunchGeometry {
  std::array<Expr, 3> grid;
  std::array<Expr, 3> block;
  Expr shared_memory_bytes;  // dynamic shared memory
  std::optional<std::array<Expr, 3>> cluster;  // "cluster": blocks per thread block cluster
};

// A __constant__ variable filled before the kernel runs ("constants" in the spec).
struct ConstantSymbol {
  std::string name;  // the symbol as the cubin names it (global scope: the variable's name)
  ElementType type = ElementType::f32;
  std::optional<Expr> count;  // elements, over sizes; absent for a file (its element count)
  DataInit init;              // any kind but copy
};

// A second kernel whose outputs are the truth ("verify.against": {"kernel": ...}): compiled once
// with the default configuration's defines and run once on the same arguments.
struct ReferenceKernel {
  std::filesystem::path source_path;  // empty: inline code, or the spec's own source
  std::string source;
  std::string entry;
  LaunchGeometry launch;  // expressions over sizes (and parameters, at the default configuration)
  std::vector<std::string> compile_options;  // added to the spec's
};

// Per output ("verify.outputs"): a reference answer from a file and/or tolerances of its own.
struct OutputCheck {
  std::string name;
  std::optional<DataFile> answer;
  std::optional<double> rtol, atol;
};

struct Tolerances {
  double rtol = 1e-4, atol = 1e-4;
  friend bool operator==(const Tolerances&, const Tolerances&) = default;
};
// What an output of this element type is compared within unless the spec says otherwise:
// half 1e-2, bfloat16 5e-2, float 1e-4, double 1e-8 (rtol and atol alike), integers exactly.
Tolerances default_tolerances(ElementType type) noexcept;
// An element type by its spec or C++ name ("float", "__half", "unsigned int", "int64", ...).
std::optional<ElementType> parse_element_type(std::string name);

struct Verification {
  bool enabled = true;
  Config reference;  // the configuration whose outputs are the truth (the default unless named)
  std::optional<ReferenceKernel> kernel;  // else the reference configuration
  std::optional<double> rtol, atol;       // for every output; else by element type
  std::vector<OutputCheck> outputs;       // in spec order; only outputs named in "verify.outputs"
  // "verify.match": parameters whose value changes the correct answer (time steps per launch, ...).
  // Each configuration is compared with a reference run at its own values of these parameters;
  // in spec parameter order. Empty: one reference for every configuration.
  std::vector<std::string> match;
  const OutputCheck* output(std::string_view name) const;
  // The output's tolerances: its own, else the spec's, else its element type's default (`type`
  // where given: a buffer following a named choice, in a configuration's type).
  Tolerances tolerances_for(const Argument& output) const;
  Tolerances tolerances_for(const Argument& output, ElementType type) const;
};

// One kernel of a pipeline ("pipeline" in the spec, docs/spec.md): launched after the one before
// it on the same stream, on the spec's buffers and scalars, in the same configuration; the
// pipeline's time (first kernel's start to last kernel's end) is what is tuned.
struct PipelineStage {
  std::string entry;  // as KernelSpec::entry; with template_ the tuned arguments follow
  LaunchGeometry launch;  // expressions over parameters and sizes
  std::vector<std::size_t> args;  // indices into KernelSpec::args, in this kernel's parameter order
  std::string source_given;  // its own source file as the spec wrote it (appended to the
                             // translation unit, KernelSpec::source); empty: the spec's source
};

// What tuning ranks configurations by ("objective"): the kernel's time (the default), or the rate
// of a metric (work per second: "maximize": "flops" over metrics.flops), for kernels whose work
// per launch depends on a parameter (time steps per launch, items per thread).
struct Objective {
  std::string maximize;  // "" (minimise time), "flops" or "bytes"
  bool by_time() const noexcept { return maximize.empty(); }
  friend bool operator==(const Objective&, const Objective&) = default;
};

struct KernelSpec {
  int version = kSpecVersion;
  std::string name;
  std::string description;
  std::filesystem::path spec_path;    // empty for specs parsed from text
  std::filesystem::path source_path;  // empty for inline source
  std::string source;                 // the CUDA C++ text
  // The __global__ function: a name, or a template instance as NVRTC names it ("vector_add<float>").
  // With template_ the tuned arguments follow any given here: "reduce<float>" -> reduce<float, 256>.
  // May name parameters, "k_block{BLOCK}": a pattern each configuration resolves
  // (engine/model/entry_pattern.hpp); kept as written, so the kernel key holds the pattern.
  std::string entry;

  ParamSpace space;  // params, size names, constraints
  Config default_config;
  ParamPassing passing = ParamPassing::defines;
  std::vector<std::string> template_args;  // template_: parameter names in template order
  // "sizes_to_preprocessor": every size is also a define (-DN=4096) of every compile at sizes, so
  // a binary serves one size only: the sizes are then part of the cubin key (through the defines).
  bool sizes_to_preprocessor = false;

  std::vector<std::string> compile_options;       // extra NVRTC options, e.g. "-std=c++17"
  std::vector<std::filesystem::path> include_dirs;  // resolved against the spec's folder
  bool arch_specific = false;                     // compile for sm_XXa (needed by wgmma & co.)
  // Digest of the contents of the headers the source includes (engine/model/included_headers.hpp),
  // taken when the spec is loaded; part of the kernel key and the cubin key. Empty: none found.
  std::string headers_digest;
  // Header packages named by "@name" in compile.include_dirs (engine/model/packages.hpp): their
  // include folders are in include_dirs and their options in compile_options; their headers are
  // not read for headers_digest, their identities are.
  std::vector<HeaderPackage> packages;

  LaunchGeometry launch;
  // A pipeline's args are every buffer and scalar its kernels share (each stage lists its own, by
  // name); a single kernel's are its parameters in order.
  std::vector<Argument> args;
  // Two or more kernels launched in order; empty for a single kernel. For a pipeline, `entry` and
  // `launch` are its first kernel's (so code that shows "the kernel" shows the first one).
  std::vector<PipelineStage> pipeline;
  // Setup kernels ("setup" in the spec): compiled in the same program as the kernel(s), run once
  // per loaded configuration before anything is compared or timed, never timed; the buffers they
  // write are not restored (so none is an output). Same shape as pipeline stages.
  std::vector<PipelineStage> setup;
  std::vector<ConstantSymbol> constants;
  Verification verify;
  std::optional<Expr> flops;  // per launch, for TFLOP/s in reports
  std::optional<Expr> bytes;  // per launch, for GB/s in reports
  Objective objective;        // what tuning ranks by (engine/model/objective.hpp)
  std::uint64_t seed = 0x6b74756e65ULL;  // "ktune": initialisation seed
  std::vector<SizeBuckets> buckets;       // at most one per size, in spec size order

  static Result<KernelSpec> from_file(const std::filesystem::path& path);
  // `base_dir` resolves a relative "source" file and include dirs.
  static Result<KernelSpec> from_json_text(std::string_view json_text, const std::filesystem::path& base_dir = {});

  // Slot values for expressions: the configuration's parameters, then the sizes. Errors name a
  // missing or unknown size or parameter.
  Result<std::vector<std::int64_t>> slots(const Config& config, const Sizes& sizes) const;
  // Checks sizes against the spec's size names (all present, none unknown, each >= 0).
  Status check_sizes(const Sizes& sizes) const;
  // The sizes in the spec's order, however the caller wrote them, so keys and output do not
  // depend on the order: check_sizes, and a size given twice is an error too (a later value
  // would otherwise silently lose).
  Result<Sizes> ordered_sizes(const Sizes& sizes) const;
  // Why the spec's default configuration is not valid at `sizes` (spec order, all given) — a
  // constraint over sizes such as BLOCK * ITEMS <= N can reject it at small sizes — or nullopt.
  std::optional<std::string> why_default_invalid_at(const Sizes& sizes) const;
  // Sizes (spec order) with every bucketed size replaced by its bucket's representative: what
  // tune and lookup key and measure. Unchanged when the spec declares no buckets.
  Sizes bucketed_sizes(const Sizes& ordered) const;
  // The configuration of the defines/template arguments: "-DBM=64" ... or "sgemm<64, 64>"; named
  // choices by their string ("-DT=float", "vector_add<float>"). With sizes_to_preprocessor and
  // `sizes` given, the sizes follow as defines ("-DN=4096").
  std::vector<std::string> defines_for(const Config& config, const Sizes* sizes = nullptr) const;
  std::string name_expression_for(const Config& config) const;
  // Every kernel's name expression, in launch order: a pipeline's stages, else the one entry;
  // then the setup kernels' (in spec order), all of one program.
  std::vector<std::string> name_expressions_for(const Config& config) const;
  // Every kernel's entry as written (a pattern unresolved), in launch order.
  std::vector<std::string> entries() const;
  // Every kernel's entry with its {NAME}s replaced by the configuration's values, before any tuned
  // template arguments (so two configurations share a kernel exactly when these are equal).
  std::vector<std::string> resolved_entries_for(const Config& config) const;
  // Whether an entry (a pipeline: any kernel's) names parameters.
  bool has_entry_pattern() const;
  bool is_pipeline() const noexcept { return !pipeline.empty(); }
  // A parameter's value as the source sees it: a choice's string, else the number.
  std::string value_text(const std::string& param, std::int64_t value) const;
  // "vector_add<float>" -> "vector_add" and "<float>"; a plain entry has no template arguments.
  std::string entry_name() const;
  std::string entry_template_arguments() const;
  // Whether any output's truth is a run (the reference configuration or a reference kernel),
  // rather than every output having an answer file.
  bool needs_reference_run() const;
  // What outputs are verified against, for reports: "configuration BM=64 of the same kernel",
  // "reference kernel conv_naive", "C: answer file c.npy", ...; "off" without verification.
  // With verify.match and `config` given: the reference of that configuration's combination
  // ("... with temporal_tiling_factor=3"); without `config`, the rule ("... at each
  // configuration's temporal_tiling_factor").
  std::string describe_reference(const Config* config = nullptr) const;
  // verify.match: the configuration's values of the matched parameters (spec order), which
  // decide its reference; empty without match. Configurations with equal groups share one.
  Config match_group(const Config& config) const;
  // The configuration whose values a reference run uses for `config`: the reference
  // configuration (or, with a reference kernel, the default) with the matched parameters set to
  // `config`'s. Without match: the reference configuration (the default for a kernel).
  Config reference_config_for(const Config& config) const;
  // An argument's element type in `config`: a buffer following a named choice has its choice's.
  ElementType arg_type(const Argument& arg, const Config& config) const;
  // Whether any buffer's element type follows a named choice (buffers are then set up per type).
  bool has_typed_buffers() const;
  // The values of the parameters buffer types follow (spec order); empty without such buffers.
  // Configurations with equal type groups share one set of buffers.
  Config type_group(const Config& config) const;
  // The metric the objective maximises (metrics.flops / metrics.bytes), null when ranking by time.
  const Expr* objective_metric() const;
};

}  // namespace ktune
