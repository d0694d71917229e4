#pragma once
// The small templated kernel the compile-pool tests compile: real NVRTC work, ~0.1 s a job.
// A marker comment in the source triggers a test-only fault in ktune-worker (KTUNE_WORKER_TEST_FAULTS=1).
#include <string>

#include "workers/compile_job.hpp"

namespace ktune::testing {

inline const char* const kScaleSource = R"(template <int N>
__global__ void scale(float* x) { x[threadIdx.x] *= N; }
)";

inline workers::CompileJob scale_job(int n, const std::string& marker = {}) {
  workers::CompileJob job;
  job.source = std::string(kScaleSource) + (marker.empty() ? "" : "// " + marker + "\n");
  job.name_expressions = {"scale<" + std::to_string(n) + ">"};
  job.arch = "sm_90";
  return job;
}

inline std::string lowered_scale(int n) { return "_Z5scaleILi" + std::to_string(n) + "EEvPf"; }

}  // namespace ktune::testing
