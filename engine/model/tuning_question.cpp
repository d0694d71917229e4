#include "engine/model/tuning_question.hpp"

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

store::UsableConfig TuningQuestion::usable_config() const {
  return [space = &spec->space, sizes = sizes](const Config& config) { return !why_invalid_at(*space, config, sizes); };
}

}  // namespace ktune
