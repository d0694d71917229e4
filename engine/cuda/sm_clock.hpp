#pragma once
// The SM clock through NVML (libnvidia-ml.so.1, loaded at run time). Clocks cannot be locked on
// shared machines, so the runner records the clock with each batch of samples and drops batches
// taken while the GPU was throttled.
#include <memory>
#include <optional>
#include <string>

namespace ktune::cuda {

class SmClock {
 public:
  // nullptr when NVML is not available (the runner then reports no clock).
  static std::unique_ptr<SmClock> open(const std::string& pci_bus_id);
  std::optional<unsigned> current_mhz() const;
  unsigned max_mhz() const noexcept { return max_mhz_; }

 private:
  void* device_ = nullptr;
  unsigned max_mhz_ = 0;
  int (*get_clock_)(void*, int, unsigned*) = nullptr;
};

}  // namespace ktune::cuda
