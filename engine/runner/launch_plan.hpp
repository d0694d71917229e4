#pragma once
// What the runner is handed, as plain values: the buffers of a problem (allocated once per
// problem), and for each configuration the launch shape and the scalar argument values. The model
// makes them from a spec (engine/model/instantiate.hpp); the runner never sees a spec.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/element_type.hpp"
#include "engine/runner/buffer_init.hpp"
#include "engine/runner/launch_limits.hpp"

namespace ktune::runner {

// A pipeline of more kernels than this is a mistake (and a corrupt frame is refused by it).
inline constexpr std::size_t kMaxPipelineKernels = 64;
// Setup kernels (run once per loaded configuration) of one spec at most.
inline constexpr std::size_t kMaxSetupKernels = 16;

// Problems larger than this are refused before allocating (a typo like 10^12 elements).
inline constexpr std::uint64_t kMaxProblemBytes = 1ULL << 40;

struct BufferPlan {
  std::string name;
  ElementType type = ElementType::f32;
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  BufferInit init;
  bool output = false;
  // Outputs: the reference answer from a file (else from the reference run), and the tolerances
  // this output is compared within: |x - ref| <= atol + rtol * |ref|.
  std::optional<DataFileRef> answer;
  double rtol = 1e-4, atol = 1e-4;
};

// A __constant__ variable of the kernel filled before it runs: `symbol` is looked up in each
// loaded cubin (cuLibraryGetGlobal) and must hold at least `bytes`.
struct ConstantPlan {
  std::string symbol;
  ElementType type = ElementType::f32;
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  BufferInit init;  // any kind but copy
};

struct ScalarArg {
  ElementType type = ElementType::i32;
  std::int64_t integer = 0;
  double floating = 0.0;
  bool is_floating = false;
  // The bytes the kernel receives, in the argument's own type.
  std::vector<std::byte> bytes() const;
};

// One kernel argument: a buffer (by index into Problem::buffers), a scalar (into
// LaunchPlan::scalars), or a TMA descriptor (is_tensor_map: into LaunchPlan::tensor_maps).
struct ArgSlot {
  bool is_buffer = false;
  std::size_t index = 0;
  bool is_tensor_map = false;
};

// The most dimensions a TMA descriptor has (cuTensorMapEncodeTiled).
inline constexpr std::size_t kMaxTensorMapRank = 5;

// A TMA descriptor ("type": "tensor_map" in the spec) at one configuration's values: the runner
// encodes it with cuTensorMapEncodeTiled against the device address of `buffer` (its element type
// gives the descriptor's data type) and passes the 128 bytes by value. Arrays hold `rank` values,
// innermost dimension first; the model checked the ranges, the driver checks the rest.
struct TensorMapPlan {
  std::size_t buffer = 0;  // index into Problem::buffers
  std::uint32_t rank = 1;
  std::array<std::uint64_t, kMaxTensorMapRank> dims{};
  std::array<std::uint64_t, kMaxTensorMapRank - 1> stride_bytes{};  // of dims[1], dims[2], ...
  std::array<std::uint32_t, kMaxTensorMapRank> box{};
  std::array<std::uint32_t, kMaxTensorMapRank> element_strides{};
  std::uint32_t swizzle_bytes = 0;         // 0, 32, 64 or 128
  std::uint32_t l2_promotion_bytes = 256;  // 0, 64, 128 or 256
  bool oob_nan = false;                    // out-of-bounds elements read as NaN (else zeros)
  friend bool operator==(const TensorMapPlan&, const TensorMapPlan&) = default;
};

struct Problem {
  std::vector<BufferPlan> buffers;
  std::vector<ArgSlot> args;  // in kernel order (a pipeline: its first kernel's)
  // A pipeline's later kernels (the second, third, ...), launched after the first on the same
  // stream: each one's arguments in its kernel order, into the same buffers and scalars. Empty for
  // a single kernel.
  std::vector<std::vector<ArgSlot>> stage_args;
  // Setup kernels (run once per loaded configuration, before anything is compared or timed): each
  // one's arguments in its kernel order. Empty when the spec has none.
  std::vector<std::vector<ArgSlot>> setup_args;
  std::vector<ConstantPlan> constants;
  std::uint64_t total_bytes = 0;  // of the buffers
};

struct LaunchPlan {
  LaunchShape shape;               // a pipeline: its first kernel's
  std::vector<ScalarArg> scalars;  // every scalar of the problem, shared by a pipeline's kernels
  std::vector<LaunchShape> stage_shapes;  // a pipeline's later kernels, as Problem::stage_args
  std::vector<TensorMapPlan> tensor_maps;  // every tensor_map argument, in spec order
  std::vector<LaunchShape> setup_shapes;  // setup kernels, as Problem::setup_args
};

}  // namespace ktune::runner
