#pragma once
// NVRTC -> CUBIN, as run inside ktune-worker (and usable in-process by tools that want no pool).
// Also the cubin key: what makes two compiles produce the same CUBIN.
#include <string>

#include "engine/common/hash.hpp"
#include "workers/compile_job.hpp"

namespace ktune::workers {

// A job for a virtual architecture ("compute_90") is compiled to PTX instead, which `cubin` then
// holds: what workers/kernel_signature.hpp reads a kernel's parameter list from (ptxas never runs).
// Never throws for anything the job contains: a rejected source or option is a compile_error
// result with NVRTC's log; an NVRTC failure that is not the source's fault is `internal`;
// NVRTC running out of memory is `out_of_memory`.
// With `pch` (a worker's own PrecompiledHeaders, workers/precompiled_headers.hpp) a job with
// use_pch compiles its header prefix once per worker and reuses it; the CUBIN is the same.
class PrecompiledHeaders;
CompileResult compile_with_nvrtc(const CompileJob& job, PrecompiledHeaders* pch = nullptr);

// "13.0" — the linked NVRTC library's version.
std::string nvrtc_version();

// The canonical form hashed into the cubin key (docs/workers.md). One line per field, every
// variable-length value written as <byte length>:<bytes> so no two jobs share a form:
//   ktune-cubin-key 1
//   nvrtc <len>:<version>
//   arch <len>:<arch>
//   source_name <len>:<name>
//   source <len>:<exact source bytes>
//   names <count> then <len>:<name expression> per name, in job order
//   defines <count> then <len>:<define, normalised to -DNAME[=VALUE]>, in job order
//   options <count> then <len>:<option>, in job order
// Not included: use_nvrtc_cache and use_pch (neither changes the output; tests/test_precompiled_headers
// compares the CUBINs) and problem sizes (never in a job).
// Headers reached through -I options are not hashed: change the include path or the source when
// a header changes.
std::string cubin_canonical_form(const CompileJob& job, const std::string& nvrtc_version);
Hash128 cubin_key(const CompileJob& job, const std::string& nvrtc_version);

// The defines as NVRTC options: "BM=64" -> "-DBM=64"; "-DBM=64" unchanged.
std::string normalised_define(const std::string& define);

}  // namespace ktune::workers
