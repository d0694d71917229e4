#include "workers/compile_job.hpp"

namespace ktune::workers {

const char* compile_status_name(CompileStatus status) noexcept {
  switch (status) {
    case CompileStatus::ok: return "ok";
    case CompileStatus::compile_error: return "compile_error";
    case CompileStatus::timeout: return "timeout";
    case CompileStatus::crash: return "crash";
    case CompileStatus::out_of_memory: return "out_of_memory";
    case CompileStatus::internal: return "internal";
    case CompileStatus::cancelled: return "cancelled";
  }
  return "unknown";
}

}  // namespace ktune::workers
