#pragma once
// What several subcommands share: loading a spec, reading --size, choosing the device signature.
#include <optional>
#include <string>

#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"

namespace ktune::cli {

KernelSpec load_spec(const std::string& path);                   // throws KtuneError
Sizes parse_sizes(const std::string& text, const KernelSpec& spec);  // checks against the spec

// --device/--arch when given; else the first GPU; else an error telling the user what to pass.
DeviceSignature resolve_device(const std::string& device_name, const std::string& arch);

}  // namespace ktune::cli
