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

// Callbacks are copied under the lock and called outside it: a hook may be slow, and a waiter may
// join meanwhile.
void InFlightRequests::Entry::fire_progress(const TuneProgress& progress) {
  std::vector<std::function<void(const TuneProgress&)>> callbacks;
  {
    std::lock_guard lock(hooks_mutex);
    for (const auto& h : hooks)
      if (h.on_progress) callbacks.push_back(h.on_progress);
  }
  for (const auto& callback : callbacks) callback(progress);
}

void InFlightRequests::Entry::fire_evaluation(const Evaluation& evaluation) {
  std::vector<std::function<void(const Evaluation&)>> callbacks;
  {
    std::lock_guard lock(hooks_mutex);
    for (const auto& h : hooks)
      if (h.on_evaluation) callbacks.push_back(h.on_evaluation);
  }
  for (const auto& callback : callbacks) callback(evaluation);
}

TuneHooks InFlightRequests::fan_out(const std::shared_ptr<Entry>& entry) {
  return TuneHooks{[entry](const TuneProgress& p) { entry->fire_progress(p); },
                   [entry](const Evaluation& e) { entry->fire_evaluation(e); }};
}

}  // namespace ktune
