#pragma once
// A Python callable that the engine calls from its own threads (progress and evaluation hooks):
// every call takes the GIL, the first exception it raises is kept and re-raised to the caller when
// the tuning returns (later calls are skipped), and the last reference is dropped with the GIL
// held, whichever thread the engine destroys the hook on.
#include <nanobind/nanobind.h>

#include <exception>
#include <memory>
#include <mutex>
#include <utility>

namespace ktune::python {

// What the callbacks of one request raised; shared by its hooks and the caller that rethrows.
class CallbackErrors {
 public:
  void keep(std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (!first_) first_ = std::move(error);
  }
  bool any() const {
    std::lock_guard lock(mutex_);
    return first_ != nullptr || handed_back_;
  }
  // Re-raises the first exception a callback raised, once (call with the GIL held): a Python
  // error can be handed back to the interpreter only once, so a second call raises nothing.
  void rethrow() {
    std::exception_ptr first;
    {
      std::lock_guard lock(mutex_);
      first = std::exchange(first_, nullptr);
      handed_back_ = handed_back_ || first != nullptr;
    }
    if (first) std::rethrow_exception(first);
  }

 private:
  mutable std::mutex mutex_;
  std::exception_ptr first_;
  bool handed_back_ = false;  // later callbacks stay skipped after the error was raised
};

class PythonCallback {
 public:
  PythonCallback(nanobind::handle fn, std::shared_ptr<CallbackErrors> errors)
      : fn_(new nanobind::object(nanobind::borrow(fn)), drop_with_gil), errors_(std::move(errors)) {}

  // Converts `value` to Python and calls; called from any thread without the GIL.
  template <class T>
  void operator()(const T& value) const {
    call_with([&] { return nanobind::cast(value); });
  }
  // Calls with what `make` builds (with the GIL held): for arguments made of several values.
  template <class Make>
  void call_with(Make make) const {
    if (errors_->any()) return;
    nanobind::gil_scoped_acquire locked;
    try {
      (*fn_)(make());
    } catch (...) {
      errors_->keep(std::current_exception());
    }
  }

 private:
  static void drop_with_gil(nanobind::object* fn) {
    if (!Py_IsInitialized()) {  // interpreter gone (exit with a tuning in flight): leak, never touch it
      (void)fn->release();
      delete fn;
      return;
    }
    nanobind::gil_scoped_acquire locked;
    delete fn;
  }
  std::shared_ptr<nanobind::object> fn_;
  std::shared_ptr<CallbackErrors> errors_;
};

}  // namespace ktune::python
