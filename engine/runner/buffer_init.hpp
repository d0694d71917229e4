#pragma once
// How the runner fills an input buffer: a plain value type of the launch plan
// (engine/runner/launch_plan.hpp), on its own so the spec (engine/model/spec.hpp, a public header)
// can name it without the rest of the runner.
#include <cstdint>

namespace ktune::runner {

struct BufferInit {
  enum class Kind : std::uint8_t { random, zeros, constant, iota } kind = Kind::zeros;
  double low = -1.0, high = 1.0;  // random: uniform in [low, high)
  double value = 0.0;             // constant
  std::uint64_t seed = 0;         // random: per-buffer seed (spec seed mixed with the arg index)
};
inline constexpr std::uint8_t kLastBufferInitKind = static_cast<std::uint8_t>(BufferInit::Kind::iota);

}  // namespace ktune::runner
