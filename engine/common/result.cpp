#include "engine/common/result.hpp"

namespace ktune {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_spec: return "invalid_spec";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::io: return "io";
    case Errc::not_found: return "not_found";
    case Errc::no_gpu: return "no_gpu";
    case Errc::corrupt: return "corrupt";
    case Errc::conflict: return "conflict";
    case Errc::unsupported: return "unsupported";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace ktune
