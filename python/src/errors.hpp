#pragma once
// ktune's error values as Python exceptions: one class per Errc under ktune.KtuneError, raised with
// the library's one-line message (docs in python/README.md, "Errors").
#include <nanobind/nanobind.h>

#include "engine/common/result.hpp"

namespace ktune::python {

// Creates the exception classes in `module` and translates ktune::KtuneError into them.
void register_errors(nanobind::module_& module);

// The value, or the error thrown as ktune::KtuneError (translated at the module boundary).
template <class T>
T unwrap(Result<T>&& result) {
  return std::move(result).value_or_throw();
}
inline void check(Status&& status) { (void)std::move(status).value_or_throw(); }

}  // namespace ktune::python
