#include "engine/in_flight_requests.hpp"

namespace ktune {

InFlightRequests::Joined InFlightRequests::join(const TuneRequest& request, TuneHooks hooks) {
  std::lock_guard lock(mutex_);
  for (auto& entry : entries_)
    if (entry->request == request) {
      std::lock_guard hooks_lock(entry->hooks_mutex);
      entry->hooks.push_back(std::move(hooks));
      return Joined{entry->future, nullptr, fan_out(entry)};
    }
  auto entry = std::make_shared<Entry>();
  entry->request = request;
  auto promise = std::make_shared<Promise>();
  entry->future = promise->get_future().share();
  entry->hooks.push_back(std::move(hooks));
  entries_.push_back(entry);
  return Joined{entry->future, std::move(promise), fan_out(entry)};
}

void InFlightRequests::finish(const TuneRequest& request, Promise& promise, Result<TuneOutcome> result) {
  {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const auto& entry) { return entry->request == request; });
  }
  promise.set_value(std::move(result));
}

std::vector<InFlightRequests::Future> InFlightRequests::pending() const {
  std::lock_guard lock(mutex_);
  std::vector<Future> out;
  for (const auto& entry : entries_) out.push_back(entry->future);
  return out;
}

// Calls every waiter's hook `member` (if set) with `value`. Callbacks are copied under the lock and
// called outside it: a hook may be slow, and a waiter may join meanwhile.
template <typename Value>
void InFlightRequests::Entry::fire(std::function<void(const Value&)> TuneHooks::*member, const Value& value) {
  std::vector<std::function<void(const Value&)>> callbacks;
  {
    std::lock_guard lock(hooks_mutex);
    for (const auto& h : hooks)
      if (h.*member) callbacks.push_back(h.*member);
  }
  for (const auto& callback : callbacks) callback(value);
}

TuneHooks InFlightRequests::fan_out(const std::shared_ptr<Entry>& entry) {
  return TuneHooks{[entry](const TuneProgress& p) { entry->fire(&TuneHooks::on_progress, p); },
                   [entry](const Evaluation& e) { entry->fire(&TuneHooks::on_evaluation, e); }};
}

}  // namespace ktune
