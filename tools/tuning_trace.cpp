#include "tools/tuning_trace.hpp"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tools/commands.hpp"
#include "tools/tuning_output.hpp"

namespace ktune::cli {

TuningTrace::TuningTrace(const std::filesystem::path& path, const ParamSpace* space)
    : file_(std::fopen(path.c_str(), "w")), space_(space) {
  if (file_ == nullptr) throw CliFailure("--trace: cannot write " + path.string() + ": " + std::strerror(errno));
}

TuningTrace::~TuningTrace() {
  if (file_ != nullptr) std::fclose(file_);
}

void TuningTrace::record(const Evaluation& evaluation) {
  const auto& m = evaluation.measurement;
  const auto time_ns = evaluation.time_ns();
  if (time_ns && (!best_ns_ || *time_ns < *best_ns_)) best_ns_ = time_ns;
  nlohmann::ordered_json line;
  line["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  line["config"] = config_json(m.config, space_);
  line["status"] = std::string(store::to_string(m.status));
  line["time_ns"] = time_ns ? nlohmann::ordered_json(*time_ns) : nlohmann::ordered_json(nullptr);
  if (!m.stage_median_ns.empty()) line["stage_ns"] = m.stage_median_ns;  // a pipeline: each kernel's median
  line["best_ns"] = best_ns_ ? nlohmann::ordered_json(*best_ns_) : nlohmann::ordered_json(nullptr);
  line["compile_seconds"] = m.compile_seconds ? nlohmann::ordered_json(*m.compile_seconds) : nlohmann::ordered_json(nullptr);
  line["gpu_seconds"] = evaluation.gpu_seconds;
  const auto& d = evaluation.diagnostics;
  if (evaluation.gpu_seconds > 0) {
    line["phases"] = {{"load", d.phases.load}, {"first_run", d.phases.first_run}, {"verify", d.phases.verify},
                      {"warm_up", d.phases.warm_up}, {"sampling", d.phases.sampling}};
    line["samples"] = m.timing ? m.timing->samples : 0;
    line["stop"] = d.stop_reason;
    line["relative_standard_error"] = d.relative_standard_error;
  }
  // Flushed per line: the trace of a run that is interrupted is still readable.
  std::fprintf(file_, "%s\n", line.dump().c_str());
  std::fflush(file_);
}

}  // namespace ktune::cli
