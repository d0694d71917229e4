#pragma once
// How the runner fills an input buffer or a constant symbol: a plain value type of the launch
// plan (engine/runner/launch_plan.hpp), on its own so the spec (engine/model/spec.hpp, a public
// header) can name it without the rest of the runner. Every generated value is a pure function of
// (seed, element index), so the data is the same in every run, runner and machine.
#include <cstdint>
#include <string>

#include "engine/common/data_file.hpp"

namespace ktune::runner {

// A data file as the runner is handed it: where it is, how to read it, and the digest it had when
// the spec was loaded (engine/common/data_file.hpp).
struct DataFileRef {
  std::string path;  // resolved against the spec's folder
  DataFormat format = DataFormat::npy;
  std::string digest;  // xxh3-128 hex of the whole file
  friend bool operator==(const DataFileRef&, const DataFileRef&) = default;
};

struct BufferInit {
  // Values are part of the runner protocol: append only.
  enum class Kind : std::uint8_t { random, zeros, constant, iota, normal, integers, file, copy } kind = Kind::zeros;
  double low = -1.0, high = 1.0;    // random: uniform in [low, high)
  double value = 0.0;               // constant
  double mean = 0.0, stddev = 1.0;  // normal
  std::int64_t int_low = 0, int_high = 0;  // integers: uniform in [int_low, int_high], at the problem's sizes
  DataFileRef file;                 // file: its data, element type and count checked against the buffer's
  std::uint64_t source = 0;         // copy: index of the buffer (Problem::buffers) whose initial data this repeats
  std::uint64_t seed = 0;           // random, normal, integers: per-buffer seed (spec seed mixed with the position)
};
inline constexpr std::uint8_t kLastBufferInitKind = static_cast<std::uint8_t>(BufferInit::Kind::copy);

}  // namespace ktune::runner
