#pragma once
// Expected failures (a bad spec, a compile error, a missing GPU) travel as values; exceptions are
// kept for broken invariants. Result<T> is the value carrier at every module boundary.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace ktune {

enum class Errc : std::uint8_t {
  invalid_spec,      // the kernel spec is malformed or contradicts itself
  invalid_argument,  // a caller-supplied value is wrong (sizes, options, a config)
  io,                // a file could not be read or written
  not_found,         // the thing asked for does not exist (no store entry, no file)
  no_gpu,            // no driver or no device where one is needed
  corrupt,           // stored data failed validation
  conflict,          // an operation would overwrite something it was told not to
  unsupported,       // valid, but not something this build can do
  internal,          // a failure of a dependency we could not classify
};

const char* errc_name(Errc code) noexcept;

struct Error {
  Errc code = Errc::internal;
  std::string message;
};

// Thrown by value_or_throw(): lets a top level (CLI main, C API shim) turn an Error into one line.
class KtuneError : public std::runtime_error {
 public:
  explicit KtuneError(Error error) : std::runtime_error(error.message), error_(std::move(error)) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    if (ok()) throw std::logic_error("Result::error() called on a success");
    return std::get<1>(state_);
  }

  // For top levels that report errors as one line: returns the value or throws KtuneError.
  T value_or_throw() && {
    if (!ok()) throw KtuneError(std::get<1>(std::move(state_)));
    return std::get<0>(std::move(state_));
  }

 private:
  T& checked() {
    if (!ok()) throw std::logic_error("Result::value() called on an error: " + std::get<1>(state_).message);
    return std::get<0>(state_);
  }
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace ktune
