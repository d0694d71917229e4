#include "engine/cuda/driver_check.hpp"

#include <filesystem>

namespace ktune::cuda {

bool is_sticky(CUresult result) noexcept {
  switch (result) {
    case CUDA_ERROR_ILLEGAL_ADDRESS:
    case CUDA_ERROR_ILLEGAL_INSTRUCTION:
    case CUDA_ERROR_MISALIGNED_ADDRESS:
    case CUDA_ERROR_INVALID_ADDRESS_SPACE:
    case CUDA_ERROR_INVALID_PC:
    case CUDA_ERROR_LAUNCH_FAILED:
    case CUDA_ERROR_HARDWARE_STACK_ERROR:
    case CUDA_ERROR_ASSERT:
    case CUDA_ERROR_LAUNCH_TIMEOUT:
    case CUDA_ERROR_ECC_UNCORRECTABLE:
    case CUDA_ERROR_CONTEXT_IS_DESTROYED:
      return true;
    default:
      return false;
  }
}

Error driver_error(const DriverApi& api, CUresult result, const char* call, const char* file, int line) {
  std::string where = std::filesystem::path(file).filename().string() + ":" + std::to_string(line);
  return make_error(Errc::internal, std::string(call) + " failed: " + api.error_text(result) + " (" + where + ")");
}

}  // namespace ktune::cuda
