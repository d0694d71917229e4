#pragma once
#include <nanobind/nanobind.h>

namespace ktune::python {

// ktune._ktune.Engine and what its calls return (Answer, TuneResult, Progress, Measurement,
// CompiledKernel, Recording, Device, TuneFuture).
void bind_engine(nanobind::module_& module);

}  // namespace ktune::python
