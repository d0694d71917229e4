#pragma once
// How a configuration of a spec becomes a compile job: the one place that maps a spec onto
// NVRTC inputs (source, name expression, defines, options, architecture).
#include <string>

#include "engine/model/spec.hpp"
#include "workers/compile_job.hpp"

namespace ktune {

// `requested` ("sm_90"), else `device_arch`, else sm_90 (ktune's target without a GPU); a spec
// that asks for arch-specific features gets the "a" variant. Errc::invalid_argument for a name
// that is not sm_NN.
Result<std::string> choose_arch(const std::string& requested, const std::string& device_arch, const KernelSpec& spec);

workers::CompileJob make_compile_job(const KernelSpec& spec, const Config& config, const std::string& arch,
                                     bool use_nvrtc_cache = true);

}  // namespace ktune
