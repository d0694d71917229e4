#pragma once
// A CUDA event (cuEventCreate); destroyed by its destructor.
#include <utility>

#include "engine/cuda/driver_check.hpp"

namespace ktune::cuda {

class Event {
 public:
  static Result<Event> create(const DriverApi& api, unsigned flags) {
    CUevent event = nullptr;
    KTUNE_CU_TRY(api, cuEventCreate(&event, flags));
    return Event(&api, event);
  }

  Event() = default;
  Event(Event&& o) noexcept : api_(o.api_), event_(std::exchange(o.event_, nullptr)) {}
  Event& operator=(Event&& o) noexcept {
    if (this != &o) {
      reset();
      api_ = o.api_;
      event_ = std::exchange(o.event_, nullptr);
    }
    return *this;
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { reset(); }

  CUevent get() const noexcept { return event_; }
  void reset() noexcept {
    if (event_) (void)api_->cuEventDestroy(event_);
    event_ = nullptr;
  }

 private:
  Event(const DriverApi* api, CUevent event) noexcept : api_(api), event_(event) {}
  const DriverApi* api_ = nullptr;
  CUevent event_ = nullptr;
};

}  // namespace ktune::cuda
