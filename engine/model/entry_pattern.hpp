#pragma once
// An entry chosen by parameters: "matrixMulCUDA_block{BLOCK}" names the kernel a configuration
// launches by the values of its parameters (each {NAME} replaced by the value as the source sees it:
// the number, or a named choice's string), for sources whose variants are separate entries —
// cuda-samples' matrixMulCUDA_block16/_block32 wrappers, Kernel Tuner's kernel names with
// parameters in them. The spec keeps the pattern (it is the kernel key's entry); every compile
// names the entry resolved for its configuration (docs/spec.md "The entry chosen by a parameter").
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "tuner/param_space.hpp"

namespace ktune {

// Whether `entry` names parameters (holds a brace). A C++ name expression a spec can give has none,
// so no entry written before patterns existed changes meaning.
bool is_entry_pattern(std::string_view entry) noexcept;

// The parameters `entry` names, in order of first appearance (each once); an error naming what is
// wrong for a brace that does not close, an empty or non-identifier name, or one that is no
// parameter of `space`.
Result<std::vector<std::string>> entry_pattern_params(std::string_view entry, const ParamSpace& space);

// `entry` with every {NAME} replaced by the configuration's value of NAME as the source sees it;
// a plain entry unchanged. The parser has checked the names, so a missing value is a broken
// invariant (std::logic_error).
std::string resolve_entry(std::string_view entry, const ParamSpace& space, const Config& config);

}  // namespace ktune
