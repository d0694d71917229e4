#pragma once
// Keys: xxh3-128 over documented canonical forms (docs/keys.md). Changing any canonical form
// bumps kKeyFormatVersion, which is itself part of every form, so old and new keys never collide.
//
//   kernel key  — what the kernel is: normalised source (comments and whitespace dropped, the entry
//                 name replaced by a placeholder), entry kind, parameter passing, compile options,
//                 parameter space and constraints. Independent of sizes, device and toolchain.
//   tuning key  — the question a lookup answers: kernel key + size values + device signature +
//                 toolchain. The lookup table is indexed by it.
//   measurement key — what a measurement is of: the kernel form without its space (lists,
//                 constraints) and without the verification switch, the input data, sizes, device,
//                 toolchain (store/measurement_identity.hpp). Measurements are found by it and
//                 their configuration, so a question over a larger space re-uses them.
// The cubin key (source, configuration, options, architecture, NVRTC version; never sizes) is
// computed by the compile workers from the exact job they run (workers/).
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/hash.hpp"
#include "engine/common/named_values.hpp"
#include "engine/model/spec.hpp"

namespace ktune {

inline constexpr int kKeyFormatVersion = 1;
inline constexpr std::string_view kEntryPlaceholder = "__ktune_entry__";

struct DeviceSignature {
  std::string name;  // "NVIDIA H100 80GB HBM3"
  std::string arch;  // "sm_90"
  friend bool operator==(const DeviceSignature&, const DeviceSignature&) = default;
};

struct Toolchain {
  std::string nvrtc_version;  // "13.0"
  friend bool operator==(const Toolchain&, const Toolchain&) = default;
};

// The source with comments removed, whitespace runs collapsed to one space (none kept where
// neither neighbour is an identifier character), string and character literals kept verbatim,
// preprocessor lines kept on lines of their own, and the identifier `entry` replaced by
// kEntryPlaceholder.
std::string canonical_source(std::string_view source, std::string_view entry);

std::string kernel_canonical_form(const KernelSpec& spec);
std::string tuning_canonical_form(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device,
                                  const Toolchain& toolchain);
// The same form from its parts, for a record that carries only the kernel's key and size names
// (an imported lookup table entry): sizes are taken in `size_names` order.
std::string tuning_canonical_form(std::string_view kernel_key_hex, const std::vector<std::string>& size_names,
                                  const Sizes& sizes, const DeviceSignature& device, const Toolchain& toolchain);

// The input data a measurement runs on: the spec's seed and each buffer's init, in argument order
// (canonical JSON; store/measurement_identity.hpp puts it into the measurement form).
std::string measurement_inputs_form(const KernelSpec& spec);
// What a measurement's outputs are checked against: store::kNotVerified, or canonical JSON of the
// reference configuration and the tolerances (store::Measurement::verification).
std::string verification_identity(const KernelSpec& spec);

Hash128 kernel_key(const KernelSpec& spec);
// Sizes are taken in the spec's size order whatever order they are given in; the caller checks
// them first (KernelSpec::check_sizes).
Hash128 tuning_key(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device,
                   const Toolchain& toolchain);

}  // namespace ktune
