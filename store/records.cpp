#include "store/records.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <utility>

#include "engine/common/hash.hpp"
#include "engine/common/identifier.hpp"
#include "store/try.hpp"

namespace ktune::store {

namespace {

Error invalid(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

Status validate_named(const NamedValues& values, std::string_view what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!is_identifier(values[i].first))
      return invalid(std::string(what) + " name '" + values[i].first + "' is not an identifier");
    for (std::size_t j = 0; j < i; ++j)
      if (values[j].first == values[i].first) return invalid(std::string(what) + " " + values[i].first + " is given twice");
  }
  return Ok{};
}

bool positive_finite(double x) { return std::isfinite(x) && x > 0; }
bool non_negative_finite(double x) { return std::isfinite(x) && x >= 0; }
}  // namespace

bool is_key(std::string_view text) noexcept {
  if (text.size() != 32) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Status validate(const KernelRecord& kernel) {
  if (!is_key(kernel.kernel_key)) return invalid("kernel key '" + kernel.kernel_key + "' is not 32 lowercase hex digits");
  if (kernel.name.empty()) return invalid("kernel " + kernel.kernel_key + " has an empty name");
  if (kernel.kernel_json.empty()) return invalid("kernel " + kernel.kernel_key + " has an empty kernel_json");
  // The engine's kernel key is the hash of exactly this text (engine/model/key.hpp), so a table whose
  // kernel was edited, or whose key was, is caught here, by the store itself.
  if (const std::string actual = xxh3_128(kernel.kernel_json).hex(); actual != kernel.kernel_key)
    return invalid("kernel_key " + kernel.kernel_key + " does not match its kernel_json (which hashes to " + actual +
                   ")");
  return Ok{};
}

Status validate(const TuningRecord& tuning) {
  if (!is_key(tuning.tuning_key)) return invalid("tuning key '" + tuning.tuning_key + "' is not 32 lowercase hex digits");
  if (!is_key(tuning.kernel_key)) return invalid("kernel key '" + tuning.kernel_key + "' is not 32 lowercase hex digits");
  if (tuning.device.empty()) return invalid("device name is empty");
  if (tuning.arch.empty()) return invalid("arch is empty");
  if (tuning.toolchain.empty()) return invalid("toolchain is empty");
  return validate_named(tuning.sizes, "size");
}

Status validate(const Measurement& m) {
  KTUNE_TRY(validate_named(m.config, "parameter"));
  if (m.status == MeasurementStatus::ok && !m.timing)
    return invalid("measurement of " + format_named(m.config) + " has status ok but no timing");
  if (m.timing) {
    const TimingStats& t = *m.timing;
    if (!positive_finite(t.median_ns) || !positive_finite(t.min_ns) || !positive_finite(t.mean_ns) ||
        !non_negative_finite(t.stddev_ns) || t.samples <= 0 || t.timer.empty())
      return invalid("measurement of " + format_named(m.config) +
                     " has invalid timing (times must be positive, samples > 0, timer named)");
  }
  if (m.compile_seconds && !non_negative_finite(*m.compile_seconds))
    return invalid("measurement of " + format_named(m.config) + " has a negative compile time");
  for (double t : m.stage_median_ns)
    if (!non_negative_finite(t)) return invalid("measurement of " + format_named(m.config) + " has an invalid kernel time");
  return Ok{};
}

Status validate(const BestRecord& best) {
  KTUNE_TRY(validate(best.tuning));
  KTUNE_TRY(validate_named(best.config, "parameter"));
  if (!positive_finite(best.time_ns)) return invalid("time_ns must be a positive number");
  if (best.default_time_ns && !positive_finite(*best.default_time_ns))
    return invalid("default_time_ns must be a positive number when present");
  if (best.strategy.empty()) return invalid("strategy is empty");
  if (best.evaluations < 0) return invalid("evaluations is negative");
  if (!non_negative_finite(best.wall_seconds)) return invalid("wall_seconds must be a non-negative number");
  if (best.ktune_version.empty()) return invalid("ktune_version is empty");
  return Ok{};
}

std::string named_to_text(const NamedValues& values) { return format_named(values, " "); }

Result<NamedValues> named_from_text(std::string_view text) { return parse_named(text); }

}  // namespace ktune::store
