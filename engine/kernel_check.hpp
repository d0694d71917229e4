#pragma once
// The checks a spec gets before anything is launched (`ktune space`, `ktune compile`): NVRTC
// resolves the entry of the default configuration (templates through their name expression), and
// the spec's args are compared with the kernel's parameter list (a pipeline: every kernel's) (workers/kernel_signature.hpp):
// the count, pointer versus scalar, and each scalar's type (width and integer versus floating).
// A mistake here would otherwise show only as every compile failing, or as a kernel reading its
// arguments from the wrong bytes.
#include <optional>
#include <string>
#include <vector>

#include "engine/common/result.hpp"
#include "engine/model/spec.hpp"
#include "workers/kernel_signature.hpp"

namespace ktune {

class CompileService;

// The kernel's signature when it matches the spec; Errc::invalid_spec with one line naming the
// field (entry or args.NAME) otherwise. Compiles the default configuration to PTX for `arch`:
// through `service`'s crash-isolated workers (and its cache: a second check costs no compile)
// when given, else in this process. `sizes` (spec order): a spec with sizes_to_preprocessor is
// compiled with them as defines, as every compile at sizes is; without them such a spec is not
// checked (Errc::invalid_argument saying the check needs sizes).
Result<workers::KernelSignature> check_kernel_signature(const KernelSpec& spec, const std::string& arch,
                                                        CompileService* service = nullptr, const Sizes* sizes = nullptr);
// Every kernel's signature, in launch order (a pipeline's stages, each against the args it
// lists; errors name pipeline[i]); one for a single kernel. An entry that names parameters
// ("k_block{BLOCK}") is checked once per distinct kernel it resolves to over the valid
// configurations (at `sizes` when given), each compiled in a configuration that launches it
// (the default's first); its errors name the pattern and the values ("at BLOCK=64").
// Then each setup kernel's (setup[i]), in the default configuration.
Result<std::vector<workers::KernelSignature>> check_kernel_signatures(const KernelSpec& spec, const std::string& arch,
                                                                     CompileService* service = nullptr,
                                                                     const Sizes* sizes = nullptr);

// The comparison alone (for tests and for signatures read elsewhere): Ok, or what differs.
// `stage`: compare with that pipeline stage's args (with `setup`: that setup kernel's).
Status compare_signature(const KernelSpec& spec, const workers::KernelSignature& signature,
                         std::optional<std::size_t> stage = std::nullopt, bool setup = false);

}  // namespace ktune
