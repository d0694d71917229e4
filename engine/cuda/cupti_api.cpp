#include "engine/cuda/cupti_api.hpp"

#include <dlfcn.h>

#include <mutex>
#include <optional>
#include <vector>

namespace ktune::cuda {

namespace {

Result<const CuptiLibrary*> load_once() {
  static CuptiLibrary library;
  std::vector<std::string> candidates = {"libcupti.so.13", "libcupti.so", "/usr/local/cuda/lib64/libcupti.so",
                                         "/usr/local/cuda/extras/CUPTI/lib64/libcupti.so"};
  std::string last_error;
  for (const auto& candidate : candidates) {
    void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = dlerror();
      last_error = why ? why : candidate;
      continue;
    }
    auto get_version = reinterpret_cast<int (*)(std::uint32_t*)>(dlsym(handle, "cuptiGetVersion"));
    if (!get_version) {
      dlclose(handle);
      last_error = candidate + " has no cuptiGetVersion";
      continue;
    }
    get_version(&library.api_version);
    library.path = candidate;
    library.handle = handle;
    return &library;
  }
  return make_error(Errc::unsupported, "CUPTI not loadable: " + last_error);
}

}  // namespace

Result<const CuptiLibrary*> load_cupti() {
  static std::once_flag once;
  static std::optional<Result<const CuptiLibrary*>> outcome;
  std::call_once(once, [] { outcome.emplace(load_once()); });
  return *outcome;
}

}  // namespace ktune::cuda
