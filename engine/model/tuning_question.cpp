#include "engine/model/tuning_question.hpp"

#include "store/measurement_identity.hpp"

namespace ktune {

store::KernelRecord TuningQuestion::kernel_record() const {
  std::string form = kernel_canonical_form(*spec);
  return store::KernelRecord{xxh3_128(form).hex(), spec->name, std::move(form)};
}

store::TuningRecord TuningQuestion::tuning_record() const {
  return store::TuningRecord{tuning_key(*spec, sizes, device, toolchain).hex(), kernel_key(*spec).hex(), sizes,
                             device.name, device.arch, toolchain_text()};
}

store::LookupRequest TuningQuestion::lookup_request() const {
  store::TuningRecord t = tuning_record();
  return store::LookupRequest{t.tuning_key, t.kernel_key, t.sizes, t.device, t.arch, t.toolchain};
}

namespace {

std::string measurement_key_with(const TuningQuestion& q, std::string_view inputs_json) {
  const std::string form = kernel_canonical_form(*q.spec);
  // The kernel form is ours and the sizes were checked against it, so this cannot fail.
  return store::measurement_key({form, inputs_json, &q.sizes, q.device.name, q.device.arch, q.toolchain_text()})
      .value_or_throw();
}

}  // namespace

std::string TuningQuestion::measurement_key() const { return measurement_key_with(*this, measurement_inputs_form(*spec)); }

std::string TuningQuestion::unrecorded_inputs_measurement_key() const {
  return measurement_key_with(*this, store::kUnrecordedInputs);
}

store::UsableConfig TuningQuestion::usable_config() const {
  return [space = &spec->space, sizes = sizes](const Config& config) { return !why_invalid_at(*space, config, sizes); };
}

}  // namespace ktune
