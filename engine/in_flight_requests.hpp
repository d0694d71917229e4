#pragma once
// The engine's registry of tunings in flight. A request identical to one already running (an equal
// TuneRequest: kernel, sizes, settings) joins it instead of tuning again; every waiter's hooks are
// kept and fanned out, so each caller hears the progress and the evaluations it asked to hear (from
// the moment it joined).
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace ktune {

// What makes two tunings the same. Equality is the merge rule; hooks are no part of it.
struct TuneRequest {
  std::string kernel_key;  // hex of kernel_key(spec)
  Sizes sizes;             // spec order
  TuneSettings settings;
  friend bool operator==(const TuneRequest&, const TuneRequest&) = default;
};

class InFlightRequests {
 public:
  using Promise = std::promise<Result<TuneOutcome>>;
  using Future = std::shared_future<Result<TuneOutcome>>;

  struct Joined {
    Future future;
    // Set for the caller that must run the tuning (the first); empty for one that joined it.
    std::shared_ptr<Promise> promise;
    // Every waiter's hooks as one, for the tuning to call.
    TuneHooks hooks;
  };

  Joined join(const TuneRequest& request, TuneHooks hooks);
  // Removes the request (a later identical one tunes anew), then answers every waiter.
  void finish(const TuneRequest& request, Promise& promise, Result<TuneOutcome> result);
  std::vector<Future> pending() const;

 private:
  struct Entry {
    TuneRequest request;
    Future future;
    std::mutex hooks_mutex;  // waiters join while the tuning calls the hooks
    std::vector<TuneHooks> hooks;
    // Calls the hook `member` of every waiter that set it.
    template <typename Value>
    void fire(std::function<void(const Value&)> TuneHooks::*member, const Value& value);
  };
  static TuneHooks fan_out(const std::shared_ptr<Entry>& entry);

  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Entry>> entries_;
};

}  // namespace ktune
