#pragma once
// What the runner is handed, as plain values: the buffers of a problem (allocated once per
// problem), and for each configuration the launch shape and the scalar argument values. The model
// makes them from a spec (engine/model/instantiate.hpp); the runner never sees a spec.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/common/element_type.hpp"
#include "engine/runner/buffer_init.hpp"
#include "engine/runner/launch_limits.hpp"

namespace ktune::runner {

// Problems larger than this are refused before allocating (a typo like 10^12 elements).
inline constexpr std::uint64_t kMaxProblemBytes = 1ULL << 40;

struct BufferPlan {
  std::string name;
  ElementType type = ElementType::f32;
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  BufferInit init;
  bool output = false;
};

struct ScalarArg {
  ElementType type = ElementType::i32;
  std::int64_t integer = 0;
  double floating = 0.0;
  bool is_floating = false;
  // The bytes the kernel receives, in the argument's own type.
  std::vector<std::byte> bytes() const;
};

// One kernel argument: a buffer (by index into Problem::buffers) or a scalar (into LaunchPlan::scalars).
struct ArgSlot {
  bool is_buffer = false;
  std::size_t index = 0;
};

struct Problem {
  std::vector<BufferPlan> buffers;
  std::vector<ArgSlot> args;  // in kernel order
  std::uint64_t total_bytes = 0;
};

struct LaunchPlan {
  LaunchShape shape;
  std::vector<ScalarArg> scalars;
};

}  // namespace ktune::runner
