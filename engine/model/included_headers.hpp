#pragma once
// The contents of the headers a kernel source includes, as one digest, so that an edited header
// changes the kernel key and the cubin key (issue #14, "Stale"; docs/keys.md). `#include "..."`
// and `#include <...>` are resolved as the compiler would find them: quoted ones in the including
// header's own folder first, then the spec's include_dirs, then the source's folder; angled ones
// in include_dirs. Headers under the toolkit's include folder are covered by the toolchain's
// identity (the NVRTC version is in every key) and are not read; names found nowhere are skipped
// (NVRTC's built-in headers, or a compile error the compile reports).
// Headers of a package the spec names ("@cutlass", engine/model/packages.hpp) are not read either:
// the package's identity joins the digest instead.
#include <cstddef>
#include <string>
#include <vector>

#include "engine/model/spec.hpp"

namespace ktune {

// Bounds, so a hostile or huge include tree costs at most this much per key computation.
inline constexpr int kMaxIncludeDepth = 16;
inline constexpr std::size_t kMaxIncludedHeaders = 256;
inline constexpr std::size_t kMaxIncludedBytes = 16u << 20;

struct IncludedHeaders {
  std::string digest;        // 32 hex over (include spelling, content) in discovery order; empty: none found
  std::size_t headers = 0;   // distinct header files read
  std::size_t bytes = 0;     // their total size
  bool truncated = false;    // a bound above was reached (then the digest says so, and keys stay stable)
};

// Reads the headers now; the spec parser stores the digest in KernelSpec::headers_digest.
IncludedHeaders included_headers(const KernelSpec& spec);

// The texts of the same headers (same resolution, same bounds), in discovery order: for the spec's
// check that its entry occurs in the code when the source only #includes the kernel (a wrapper that
// joins upstream files unchanged, like examples/benchmark_hub/gemm_milo/xgemm_cuda.cu).
std::vector<std::string> included_header_texts(const KernelSpec& spec);

// The toolkit's include folder on every compile's path: $CUDA_HOME/include, else where this build
// found the toolkit.
const std::string& toolkit_include_dir();
// The toolkit's folders on every compile's path: toolkit_include_dir(), then its CCCL folder
// (include/cccl: CUB, Thrust, libcu++ in CUDA 13, which no longer puts them in include/ itself)
// when it exists, so `#include <cub/cub.cuh>` works in NVRTC as it does with nvcc.
const std::vector<std::string>& toolkit_include_dirs();

}  // namespace ktune
