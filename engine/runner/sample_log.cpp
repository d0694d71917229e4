#include "engine/runner/sample_log.hpp"

#include <cstdlib>

namespace ktune::runner {

namespace {

// Labels are "NAME=value ..." built from identifiers and integers; anything else is escaped.
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

SampleLog* SampleLog::from_environment() {
  static SampleLog* log = [] () -> SampleLog* {
    const char* path = std::getenv("KTUNE_RUNNER_SAMPLE_LOG");
    if (!path || !*path) return nullptr;
    std::FILE* file = std::fopen(path, "a");
    if (!file) return nullptr;
    static SampleLog instance(file);
    return &instance;
  }();
  return log;
}

void SampleLog::append(const std::string& label, const KernelMeasurement& m, std::span<const double> samples_ns) {
  std::string line = "{\"label\": " + json_string(label) + ", \"timer\": " + json_string(m.timer) + ", \"status\": " +
                     json_string(std::string(to_string(m.status))) + ", \"stop\": " + json_string(stop_decision_name(m.stop)) +
                     ", \"sampling_seconds\": " + std::to_string(m.phases.sampling) + ", \"samples_ns\": [";
  char number[32];
  for (std::size_t i = 0; i < samples_ns.size(); ++i) {
    std::snprintf(number, sizeof number, "%s%.1f", i ? ", " : "", samples_ns[i]);
    line += number;
  }
  line += "]}\n";
  std::fwrite(line.data(), 1, line.size(), file_.get());
  std::fflush(file_.get());
}

}  // namespace ktune::runner
