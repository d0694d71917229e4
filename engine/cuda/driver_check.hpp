#pragma once
// One macro family turns a failed driver call into an Error naming the call, the CUDA error and
// the source line: `KTUNE_CU_TRY(api, cuMemAlloc(&ptr, bytes));` inside a function returning a
// Result/Status. The CUresult is kept so callers can tell a poisoned context from a plain failure.
#include <string>

#include "engine/common/result.hpp"
#include "engine/cuda/driver_api.hpp"

namespace ktune::cuda {

// Errors after which the context is unusable: only a new process recovers (DESIGN.md decision 2).
bool is_sticky(CUresult result) noexcept;

Error driver_error(const DriverApi& api, CUresult result, const char* call, const char* file, int line);

}  // namespace ktune::cuda

#define KTUNE_CU_TRY(api, call)                                                           \
  do {                                                                                    \
    const CUresult ktune_cu_result_ = (api).call;                                         \
    if (ktune_cu_result_ != CUDA_SUCCESS)                                                 \
      return ::ktune::cuda::driver_error((api), ktune_cu_result_, #call, __FILE__, __LINE__); \
  } while (0)
