#pragma once
// One question ktune answers — this kernel, at these sizes, on this device, with this toolchain —
// and the store records that describe it. Every path that reads or writes the store (lookup,
// tune, compile, import checks) builds its keys here, so they can never disagree.
#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"
#include "store/lookup.hpp"
#include "store/records.hpp"

namespace ktune {

struct TuningQuestion {
  const KernelSpec* spec = nullptr;
  Sizes sizes;  // spec order
  DeviceSignature device;
  Toolchain toolchain;

  std::string toolchain_text() const { return "nvrtc " + toolchain.nvrtc_version; }
  store::KernelRecord kernel_record() const;
  store::TuningRecord tuning_record() const;
  store::LookupRequest lookup_request() const;
  // What its measurements are of (engine/model/key.hpp): stored under, and found by, this key.
  std::string measurement_key() const;
  // The key a schema-1 store's measurements of this kernel were given by the migration, whose
  // forms did not record the inputs (store/migrate_measurement_keys.hpp); they are read too.
  std::string unrecorded_inputs_measurement_key() const;
  // What this question's measurements are checked against (store::Measurement::verification).
  std::string verification() const { return verification_identity(*spec); }
  // A stored answer is used only if it is a valid configuration of this spec at these sizes
  // (store/lookup.hpp UsableConfig); refers to *spec, which must outlive the lookup call.
  store::UsableConfig usable_config() const;
};

}  // namespace ktune
