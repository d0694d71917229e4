#pragma once
// What several subcommands share: loading a spec, reading --size, choosing the device signature.
#include <optional>
#include <string>

#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"

namespace ktune {
class CompileService;
}

namespace ktune::cli {

KernelSpec load_spec(const std::string& path);                   // throws KtuneError
Sizes parse_sizes(const std::string& text, const KernelSpec& spec);  // checks against the spec

// The architecture to compile for: --arch, else the first GPU's, else sm_90 (CliFailure for a bad name).
std::string choose_compile_arch(const std::string& requested, const KernelSpec& spec);

// NVRTC resolves the entry and the args are checked against the kernel's parameters
// (engine/kernel_check.hpp), in `service`'s workers, or in one started for it (no cubin cache, so
// nothing is written); CliFailure naming the field when they do not match. Returns the one-line
// summary, e.g. "vector_add<float> -> _Z10vector_addIfEvPT_..., 4 parameters match args".
// With `tolerate_compiler_failure`, a check the compiler itself could not run (a worker crash,
// timeout, out of memory: Errc::internal) is not the spec's fault: a warning on stderr and the
// reason is returned, and the caller goes on (`ktune compile` then reports those failures itself).
// `sizes` (spec order): a spec with sizes_to_preprocessor is checked at them; without them it is
// not checked, which a warning on stderr and the returned "not checked: ... needs sizes" say.
std::string check_entry_and_args(const KernelSpec& spec, const std::string& arch, CompileService* service = nullptr,
                                 bool tolerate_compiler_failure = false, const Sizes* sizes = nullptr);

// --device/--arch when given; else the first GPU; else an error telling the user what to pass.
DeviceSignature resolve_device(const std::string& device_name, const std::string& arch);

}  // namespace ktune::cli
