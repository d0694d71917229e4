#pragma once
// A spec at concrete sizes: the buffers to allocate once per problem, and for each
// configuration the launch shape and the scalar argument values. Everything is evaluated and
// checked on the host before anything is allocated or launched.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/bench/launch_limits.hpp"
#include "engine/common/result.hpp"
#include "engine/model/spec.hpp"

namespace ktune::bench {

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

Result<Problem> make_problem(const KernelSpec& spec, const Sizes& sizes);
// Errc::invalid_argument with the reason when an expression cannot be evaluated or is out of range.
Result<LaunchPlan> plan_launch(const KernelSpec& spec, const Config& config, const Sizes& sizes);

}  // namespace ktune::bench
