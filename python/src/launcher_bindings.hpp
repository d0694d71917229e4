#pragma once
#include <nanobind/nanobind.h>

namespace ktune::python {

// ktune._ktune.LoadedKernel (a cubin loaded into the caller's process, launched on a stream the
// caller names), Spec.launch_arguments and dlpack_pointer: what ktune.Kernel (python/ktune/
// _launcher.py) is built from.
void bind_launcher(nanobind::module_& module);

}  // namespace ktune::python
