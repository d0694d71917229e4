#pragma once
#include <nanobind/nanobind.h>

#include "engine/prepared_kernel.hpp"

namespace ktune::python {

// What ktune.Spec holds: the parsed spec with its keys computed once.
struct Spec {
  PreparedKernel kernel;
};

void bind_spec(nanobind::module_& module);

}  // namespace ktune::python
