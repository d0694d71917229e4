#include "engine/cuda/sm_clock.hpp"

#include <dlfcn.h>

namespace ktune::cuda {

namespace {
constexpr int kNvmlSuccess = 0;
constexpr int kNvmlClockSm = 1;  // nvmlClockType_t NVML_CLOCK_SM
}  // namespace

std::unique_ptr<SmClock> SmClock::open(const std::string& pci_bus_id) {
  // NVML's C ABI is stable; its header is not part of the toolkit here, so the few entry points
  // are declared by hand.
  void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!nvml) return nullptr;
  auto init = reinterpret_cast<int (*)()>(dlsym(nvml, "nvmlInit_v2"));
  auto by_bus = reinterpret_cast<int (*)(const char*, void**)>(dlsym(nvml, "nvmlDeviceGetHandleByPciBusId_v2"));
  auto clock = reinterpret_cast<int (*)(void*, int, unsigned*)>(dlsym(nvml, "nvmlDeviceGetClockInfo"));
  auto max_clock = reinterpret_cast<int (*)(void*, int, unsigned*)>(dlsym(nvml, "nvmlDeviceGetMaxClockInfo"));
  if (!init || !by_bus || !clock || !max_clock || init() != kNvmlSuccess) return nullptr;
  auto out = std::make_unique<SmClock>();
  if (by_bus(pci_bus_id.c_str(), &out->device_) != kNvmlSuccess) return nullptr;
  out->get_clock_ = clock;
  if (max_clock(out->device_, kNvmlClockSm, &out->max_mhz_) != kNvmlSuccess) return nullptr;
  return out;
}

std::optional<unsigned> SmClock::current_mhz() const {
  unsigned mhz = 0;
  if (!get_clock_ || get_clock_(device_, kNvmlClockSm, &mhz) != kNvmlSuccess) return std::nullopt;
  return mhz;
}

}  // namespace ktune::cuda
