// ktune._ktune: the Python extension over libktune (python/README.md). The package ktune
// (python/ktune/__init__.py) re-exports it and adds what is clearer in Python.
#include <nanobind/nanobind.h>

#include "engine/version.hpp"
#include "engine_bindings.hpp"
#include "errors.hpp"
#include "launcher_bindings.hpp"
#include "spec_bindings.hpp"
#include "store_bindings.hpp"

NB_MODULE(_ktune, m) {
  m.doc() = "ktune: autotuning for CUDA kernels (the C++ engine; import ktune, not this module)";
  m.attr("__version__") = ktune::version_string();
  ktune::python::register_errors(m);
  ktune::python::bind_spec(m);
  ktune::python::bind_engine(m);
  ktune::python::bind_launcher(m);
  ktune::python::bind_store(m);
}
