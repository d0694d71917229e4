#pragma once
// How tuning results look on a terminal and as JSON: the progress line, the final summary,
// one measurement, throughput derived from the spec's metrics.
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/engine.hpp"

namespace ktune::cli {

// A configuration (or sizes) as a JSON object; with `space`, named choices as their strings.
nlohmann::ordered_json config_json(const Config& config, const ParamSpace* space = nullptr);
std::string format_time(double ns);  // "1.84 ms", "45.2 us"
// "74.6 TFLOP/s" or "2.99 TB/s" from the spec's metrics at this configuration, or "".
std::string throughput(const KernelSpec& spec, const Config& config, const Sizes& sizes, double ns);

class ProgressPrinter {
 public:
  ProgressPrinter(bool terminal, bool quiet) : terminal_(terminal), quiet_(quiet) {}
  void update(const TuneProgress& progress, bool known_total);
  void finish();

 private:
  bool terminal_, quiet_;
  bool drew_ = false;
  std::size_t last_plain_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

void print_summary(const KernelSpec& spec, const Sizes& sizes, const TuneOutcome& outcome, const std::filesystem::path& store);
nlohmann::ordered_json outcome_json(const KernelSpec& spec, const Sizes& sizes, const TuneOutcome& outcome,
                                    const std::filesystem::path& store);
void print_measurement(const KernelSpec& spec, const Sizes& sizes, const Evaluation& evaluation, const DeviceSignature& device,
                       bool json);

}  // namespace ktune::cli
