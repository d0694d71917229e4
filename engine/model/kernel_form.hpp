#pragma once
// Reading a kernel's canonical form (engine/model/key.cpp writes it; docs/keys.md) back into the
// part a stored answer must agree with: the parameter space. An imported lookup table carries
// each kernel only as this text, so it is the kernel an imported entry is checked against.
#include <string_view>

#include "engine/common/result.hpp"
#include "tuner/param_space.hpp"

namespace ktune {

// Errors (Errc::corrupt) name the field: not JSON, not a "ktune-kernel" form of this key format
// version, parameters that are not identifiers or whose values are not distinct ascending
// integers, a size named twice, a constraint that does not parse over the form's names.
Result<ParamSpace> space_from_kernel_form(std::string_view kernel_json);

}  // namespace ktune
