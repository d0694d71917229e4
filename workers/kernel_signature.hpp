#pragma once
// A kernel's parameter list as NVRTC sees it, read before anything is launched: the entry is
// resolved by NVRTC itself (a name expression, so a template instance such as vector_add<float>
// and an extern "C" kernel resolve exactly as they will for the real compile) and its parameters
// come from two sources, each used for what it is exact about:
//   - the PTX `.entry` parameter list: how many parameters and how many bytes each takes (also for
//     extern "C" kernels, which carry no types in their name);
//   - the C++ types, from the lowered (Itanium-mangled) name demangled by the C++ runtime: pointer
//     or not, and which scalar type. Absent for extern "C" kernels.
// Parsing PTX text or a demangled name is simpler and more stable than reading the CUBIN's
// undocumented .nv.info attributes, and PTX comes without running ptxas (compute_NN target).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.hpp"
#include "workers/compile_job.hpp"

namespace ktune::workers {

struct KernelParam {
  std::string ptx_type;    // ".u64", ".f32", ".b8" (an aggregate: a struct or __half passed by value)
  std::size_t bytes = 0;   // its size in the parameter space
  std::string cpp_type;    // "float const*", "int", "__half"; empty when the name carries no types
};

struct KernelSignature {
  std::string name_expression;  // what was asked for: "vector_add<float>"
  std::string lowered_name;     // "_Z10vector_addIfEvPT_PKS0_S3_i" or "plain" (extern "C")
  std::string demangled;        // "void vector_add<float>(float*, float const*, float const*, int)"; empty for extern "C"
  std::vector<KernelParam> params;
  std::string log;              // NVRTC's log (warnings)
};

// The job that reads the signature: `job` for the virtual architecture of its real one
// (sm_90a -> compute_90a), so NVRTC returns PTX (nvrtc_compiler.hpp). Run it anywhere a compile job
// runs: the crash-isolated worker pool, or compile_with_nvrtc in-process.
CompileJob signature_job(CompileJob job);

// The signature of the job's one name expression from the PTX compile's result. Errc::invalid_spec
// with NVRTC's first error line when the source does not compile or the name does not resolve,
// naming the fix for a template named without its arguments.
Result<KernelSignature> read_kernel_signature(const CompileResult& ptx, const std::string& name_expression);
// Both, in-process (tests, tools without a pool).
Result<KernelSignature> read_kernel_signature(const CompileJob& job);

// The parameters of `.entry lowered_name(...)` in `ptx`; nullopt when there is no such entry.
std::optional<std::vector<KernelParam>> ptx_entry_params(std::string_view ptx, std::string_view lowered_name);
// The parameter types of a mangled function name ("_Z3fooPfi" -> {"float*", "int"}); nullopt for
// a name that is not a mangled function (extern "C").
std::optional<std::vector<std::string>> demangled_param_types(const std::string& lowered_name, std::string* demangled = nullptr);

}  // namespace ktune::workers
