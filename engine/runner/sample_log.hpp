#pragma once
// Raw sample streams out of the runner, for studying and testing stop rules on real data
// (tests/data/sample-streams-*.jsonl came from here): with KTUNE_RUNNER_SAMPLE_LOG=FILE in the
// runner's environment, every measured configuration appends one JSON line to FILE —
//   {"label": "...", "timer": "cupti", "status": "ok", "stop": "converged", "sampling_seconds": 0.0021,
//    "samples_ns": [...]}
// A diagnostic, off by default; a failed write is ignored (it must never fail a measurement).
#include <cstdio>
#include <memory>
#include <span>
#include <string>

#include "engine/runner/measurement.hpp"

namespace ktune::runner {

class SampleLog {
 public:
  // The process's log when KTUNE_RUNNER_SAMPLE_LOG names a file that can be opened, else null.
  static SampleLog* from_environment();

  void append(const std::string& label, const KernelMeasurement& measurement, std::span<const double> samples_ns);

 private:
  struct CloseFile {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  explicit SampleLog(std::FILE* file) : file_(file) {}
  std::unique_ptr<std::FILE, CloseFile> file_;
};

}  // namespace ktune::runner
