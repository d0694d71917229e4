#pragma once
// Running a strategy against recorded measurements (no GPU): how good its answer is and how many
// evaluations it needed, compared with the best recorded configuration.
#include <filesystem>

#include "engine/engine.hpp"

namespace ktune {

namespace store {
class Store;
}

struct ReplayReport {
  TuneReport run;                 // what the strategy found and what it evaluated
  std::size_t recorded = 0;       // configurations in the recording
  Config recorded_best;
  double recorded_best_ns = 0;
  double quality() const { return run.best_ns > 0 ? recorded_best_ns / run.best_ns : 0; }  // 1.0 = found the best
};

Result<ReplayReport> replay(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device, const Toolchain& toolchain,
                            store::Store& recorded, const TuneOptions& options);
// The same from a recording on disk (a store file, opened read-only).
Result<ReplayReport> replay(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device, const Toolchain& toolchain,
                            const std::filesystem::path& recording, const TuneOptions& options);

}  // namespace ktune
