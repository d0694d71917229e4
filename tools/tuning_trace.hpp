#pragma once
// `ktune tune --trace FILE`: one JSON line per evaluation as it finishes — seconds since tuning
// started, the configuration, its status and time, and the best time so far — so tuning progress
// (best time against wall time) can be plotted and compared with other tuners (tools/bench/compare).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "engine/engine.hpp"

namespace ktune::cli {

class TuningTrace {
 public:
  // Opens (truncates) `path`; a path that cannot be written is a CliFailure naming it. With
  // `space`, named choices are written as their strings.
  explicit TuningTrace(const std::filesystem::path& path, const ParamSpace* space = nullptr);
  ~TuningTrace();
  TuningTrace(const TuningTrace&) = delete;
  TuningTrace& operator=(const TuningTrace&) = delete;

  void record(const Evaluation& evaluation);

 private:
  std::FILE* file_ = nullptr;
  const ParamSpace* space_ = nullptr;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::optional<double> best_ns_;
};

}  // namespace ktune::cli
