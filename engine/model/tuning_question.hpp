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
  // A stored answer is used only if it is a valid configuration of this spec at these sizes
  // (store/lookup.hpp UsableConfig); refers to *spec, which must outlive the lookup call.
  store::UsableConfig usable_config() const;
};

}  // namespace ktune
